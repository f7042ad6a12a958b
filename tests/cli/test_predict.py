"""``chainrule predict``: standard input streams through block by block, in bounded memory."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading

import numpy as np
import pytest

from chainrule.cli.main import main
from chainrule.datasets.csvfiles import BLOCK_ROWS

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
