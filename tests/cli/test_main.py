"""The entry point (:mod:`chainrule.cli.main`), the installed ``chainrule`` command run in a
subprocess: help on every command, every error one sentence and a status, ``python -m``, a fast
start-up, Ctrl-C during start-up."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from chainrule import datasets

from commands import call, run


def test_help_on_every_command():
    for command in ("train", "predict", "evaluate", "explain", "plot", "demo", "calc"):
        result = run(command, "--help")
        assert result.stdout.startswith("usage: chainrule " + command)


def test_errors_are_one_sentence_with_exit_status_1(tmp_path):
    result = run("predict", tmp_path / "missing.crm", tmp_path / "x.csv", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "missing.crm" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,target\n1,red,0\n2,blue,1\n")
    result = run("train", "--data", bad, "--quiet", "--out", tmp_path, check=False)
    assert result.returncode == 1 and "column 'b' is not numeric" in result.stderr
    garbage = tmp_path / "garbage.crm"
    garbage.write_bytes(b"not a model")
    result = run("predict", garbage, bad, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_bad_usage_exits_2_and_debug_shows_the_traceback(tmp_path):
    assert run("train", "--hidden", "0", check=False).returncode == 2
    assert run("frobnicate", check=False).returncode == 2
    result = run("predict", tmp_path / "missing.crm", "x.csv", "--debug", check=False)
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_python_dash_m_runs_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "demo", "xor"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "Quantized" in result.stdout


# -- start-up: a fast --help (issue 13.2) --------------------------------------------------------

HEAVY = ("numpy", "scipy", "sklearn", "matplotlib", "sympy")


def test_the_parser_and_the_package_import_nothing_heavy():
    code = (
        "import sys, chainrule; from chainrule.cli.main import build_parser; build_parser(); "
        "print(sorted({n.split('.')[0] for n in sys.modules} & set(sys.argv[1:])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *HEAVY], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_adding_a_command_is_one_line():
    import importlib

    cli_main = importlib.import_module("chainrule.cli.main")  # chainrule.cli.main: the function
    parser = cli_main.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert list(commands) == cli_main.COMMANDS


def test_memory_error_is_one_line(capsys, tmp_path):
    status, _, err = call(
        capsys, "train", "--data", "xor", "--hidden", 10**11, "--quiet", "--out", tmp_path
    )
    assert status == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("chainrule train: error: not enough memory")


def test_overflow_and_index_errors_are_one_line(capsys, monkeypatch, trained):
    from chainrule import calculus

    def overflow(*args, **kwargs):
        raise OverflowError("(34, 'Numerical result out of range')")

    monkeypatch.setattr(calculus, "derivative", overflow)
    status, _, err = call(capsys, "calc", "derivative", "exp(exp(exp(exp(x))))", "--at", "x=5")
    assert status == 1 and err.count("\n") == 1
    assert err.startswith("chainrule calc: error: OverflowError: (34, 'Numerical result")

    class Crafted:
        def predict(self, X):
            return np.arange(3)[np.full(len(X), 7)]  # what mismatched classes_ give

    out, _, iris = trained
    monkeypatch.setattr(
        "chainrule.cli.predict.load_model", lambda path: (Crafted(), {"target": "species"})
    )
    status, _, err = call(capsys, "predict", out, iris)
    assert status == 1 and err.count("\n") == 1 and "IndexError: index 7" in err


@pytest.mark.filterwarnings("default::RuntimeWarning")  # as a user's Python shows them
def test_warnings_are_one_line_each(capsys, monkeypatch):
    import warnings

    from chainrule.cli import calc

    def warns(args):
        warnings.warn("overflow encountered in divide\nmore detail", RuntimeWarning, stacklevel=1)
        warnings.warn("a second one", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(calc, "run", warns)
    status, _, err = call(capsys, "calc", "derivative", "x")
    assert status == 0
    assert err.splitlines() == [
        "chainrule calc: warning: overflow encountered in divide",
        "chainrule calc: warning: a second one",
    ]
    with warnings.catch_warnings(record=True) as caught:  # --debug: Python's own warnings
        warnings.simplefilter("always")
        status, _, err = call(capsys, "calc", "derivative", "x", "--debug")
    assert status == 0 and "chainrule calc: warning" not in err
    assert [str(w.message) for w in caught] == [
        "overflow encountered in divide\nmore detail",
        "a second one",
    ]


def test_ctrl_c_during_start_up_exits_130(capsys, monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets, "load", interrupted)
    status, _, err = call(capsys, "train", "--data", "xor", "--out", tmp_path)
    assert status == 130 and err == "chainrule train: interrupted\n"
