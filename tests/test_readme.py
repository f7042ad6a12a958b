"""The README stays true: its first two lines are the set-up commands, its Python runs."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parents[1] / "README.md"


def test_first_lines_are_the_two_setup_commands():
    lines = README.read_text().splitlines()
    block = lines[lines.index("```bash") + 1 : lines.index("```bash") + 3]
    assert block[0].endswith("pip install -e . && chainrule train")
    assert block[1].endswith('pip install -e ".[test]" torch==2.13.0 && python -m pytest -q')
    ci = (README.parent / ".ci" / "run").read_text()
    assert 'pip install --quiet -e ".[test]" torch==2.13.0' in ci and "python -m pytest -q" in ci


@pytest.mark.parametrize("block", re.findall(r"```python\n(.*?)```", README.read_text(), re.S))
def test_python_examples_run(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(compile(block, "README.md", "exec"), {})
