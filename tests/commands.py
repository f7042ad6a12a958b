"""What the command-line tests share (tests/cli/): ``chainrule`` run as the installed command in
a subprocess, or called in this process."""

from __future__ import annotations

import shutil
import subprocess

import pytest

CHAINRULE = shutil.which("chainrule") or pytest.fail("the chainrule command is not installed")


def run(*args, cwd=None, check=True):
    result = subprocess.run(
        [CHAINRULE, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def call(capsys, *argv):
    """``chainrule ARGV`` in this process: ``(status, stdout, stderr)``."""
    from chainrule.cli.main import main

    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err
