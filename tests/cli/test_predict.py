"""``chainrule predict`` and ``evaluate`` (:mod:`chainrule.cli.predict`,
:mod:`chainrule.cli.evaluate`): predictions saved bit for bit, scores, outputs checked first,
and standard input streamed through block by block, in bounded memory."""

from __future__ import annotations

import csv
import os
import queue
import stat
import subprocess
import sys
import threading

import numpy as np
import pytest
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule.cli.main import main
from chainrule.datasets.csvfiles import BLOCK_ROWS

from commands import run

#: the longest wait for a line that is due (a hang guard, not a timing)
DUE = 120


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    assert main(["train", "--data", "iris", "--epochs", "2", "--quiet", "--out", str(out)]) == 0
    return out


def _rows(n: int, seed: int) -> bytes:
    X = np.random.default_rng(seed).uniform(0, 8, size=(n, 4))
    return "".join(",".join(f"{v:.3f}" for v in row) + "\n" for row in X).encode()


def test_standard_input_is_predicted_as_it_arrives(model):
    """The first block's predictions come out while standard input is still open: nothing
    waits for the whole of it (so a pipe of any length streams in bounded memory)."""
    header = b"sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n"
    process = subprocess.Popen(
        [sys.executable, "-m", "chainrule", "predict", str(model), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        first = BLOCK_ROWS + 100  # one whole block, and the start of the next
        process.stdin.write(header + _rows(first, 0))
        process.stdin.flush()
        assert lines.get(timeout=DUE).strip() == b"prediction"  # stdin is still open
        process.stdin.write(_rows(500, 1))
        process.stdin.close()
        reader.join(timeout=DUE)
        assert process.wait(timeout=DUE) == 0
    finally:
        process.kill()
    predictions = []
    while (line := lines.get_nowait()) is not None:
        predictions.append(line)
    assert len(predictions) == first + 500


def test_predict_and_evaluate(trained, tmp_path):
    out, _, path = trained
    pred = tmp_path / "pred.csv"
    run("predict", out / "model.crm", path, "--proba", "-o", pred)
    with pred.open() as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["prediction", "proba_0"] and len(rows) == 151
    assert sum(float(v) for v in rows[1][1:]) == pytest.approx(1.0, abs=1e-4)
    printed = run("predict", out / "model.crm", path).stdout.splitlines()
    assert printed[0] == "prediction" and len(printed) == 151
    # the iris CSV has string labels; the model learned integer ones: evaluate on a numeric copy
    numeric = tmp_path / "numeric.csv"
    with path.open() as f, numeric.open("w", newline="") as g:
        rows = list(csv.reader(f))
        names = list(load_iris().target_names)
        w = csv.writer(g)
        w.writerow(rows[0])
        for row in rows[1:]:
            w.writerow([*row[:-1], names.index(row[-1])])
    result = run("evaluate", out / "model.crm", numeric, "--target", "species")
    assert "accuracy" in result.stdout and "confusion matrix" in result.stdout


def test_saved_predictions_are_bit_identical(trained):
    out, _, _ = trained
    model = cr.load(out / "model.crm")
    again = cr.load(out / "model.crm")
    X = load_iris().data
    np.testing.assert_array_equal(model.predict_proba(X), again.predict_proba(X))


def test_predict_output_is_a_regular_file_checked_before_predicting(trained, tmp_path):
    out, _, iris = trained
    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "dir.csv").mkdir()
    for name, kind in [("fifo.csv", "is a FIFO"), ("dir.csv", "is a directory")]:
        result = run("predict", out, iris, "-o", tmp_path / name, check=False)
        assert result.returncode == 1 and kind in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert stat.S_ISFIFO((tmp_path / "fifo.csv").stat().st_mode)
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old")
    real.chmod(0o640)
    link.symlink_to(real)
    run("predict", out, iris, "-o", link)
    assert link.is_symlink() and len(real.read_text().splitlines()) == 151
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["dir.csv", "fifo.csv", "link.csv", "real.csv"]
