"""``chainrule.datasets`` at scale: ``chainrule predict`` streams a CSV file (issue 25.1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

PREDICT = """
import resource, sys
from chainrule.cli import main
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import chainrule.estimators, pandas  # what predict imports anyway, counted before
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert main(["predict", *sys.argv[1:]]) == 0
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def write_csv(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        f.write("a,b,c,y\n")
        table = np.column_stack([rng.normal(size=(rows, 3)), rng.integers(0, 2, rows)])
        np.savetxt(f, table, fmt=["%.9g"] * 3 + ["%d"], delimiter=",")
    return path


def peak_growth(*args) -> int:
    """How much the peak RSS of a fresh process grew while it ran ``chainrule predict``."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", PREDICT, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1]) * 1024  # ru_maxrss: KiB on Linux


@pytest.mark.slow
def test_predict_streams_a_csv_file_in_blocks(tmp_path):
    write_csv(tmp_path / "train.csv", 200)
    train = ["train", "--data", tmp_path / "train.csv", "--quiet", "--out", tmp_path / "run"]
    subprocess.run(
        [sys.executable, "-m", "chainrule", *train],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        check=True,
        capture_output=True,
    )
    small = write_csv(tmp_path / "small.csv", 250_000)
    large = write_csv(tmp_path / "large.csv", 1_000_000)
    grown = [
        peak_growth(tmp_path / "run", path, "-o", tmp_path / "out.csv") for path in (small, large)
    ]
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 1_000_001
    # a reader that held the whole file would hold at least its text: 4x the rows add the
    # large file's extra bytes to the peak; blocks of 65,536 rows add nothing
    extra = large.stat().st_size - small.stat().st_size
    assert grown[1] - grown[0] < extra / 2, (grown, extra)
