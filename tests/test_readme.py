"""The README stays true: its first two lines are the set-up commands, its Python runs (without
a warning, as a user runs it), and its tour runs as written."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
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


def _tour() -> list[list[str]]:
    """The commands of the README's tour (its first ``bash`` block), split as a shell does."""
    text = README.read_text()
    block = re.search(r"```bash\n(.*?)```", text[text.index("## A short tour") :], re.S)
    lines = block.group(1).splitlines()
    return [shlex.split(line, comments=True) for line in lines if line.startswith("chainrule ")]


@pytest.mark.slow
def test_the_tour_runs_as_written(tmp_path):
    """Each command of the tour, in order, in a new folder: status 0, no warning, and the
    files that it names made (before, ``new.csv`` and ``labelled.csv`` existed nowhere)."""
    commands = _tour()
    assert [c[1] for c in commands[:3]] == ["train", "data", "predict"]
    for command in commands:
        result = subprocess.run(
            [sys.executable, "-m", *command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, (command, result.stderr)
        assert "warning" not in result.stderr, (command, result.stderr)
    for name in ("iris-run/model.crm", "iris.csv", "predictions.csv", "weights.png", "model.onnx"):
        assert (tmp_path / name).is_file(), name


@pytest.mark.slow
def test_the_grid_search_runs_without_a_warning(tmp_path):
    """As a user runs it (``n_jobs=2``: the workers' warnings reach only their stderr); before,
    13 ConvergenceWarnings filled the screen."""
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
                if "GridSearchCV" in b]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
