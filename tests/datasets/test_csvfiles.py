"""CSV files (:mod:`chainrule.datasets.csvfiles`): a header row required and found, bad rows named
by line and column, long fields and labels kept, standard input, and ``chainrule predict``
streaming a file block by block (issues 21.10, 25.1)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
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


# == CSV files (issues 21.10, 25.1) ===============================================================


def csv_file(tmp_path, text: str | bytes, name: str = "data.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize("first", ["5.1,3.5,1.4,0.2,0", "1,0,1,1,0", "-2,1e3,.5,nan,7"])
def test_a_csv_without_a_header_is_refused_rather_than_losing_its_first_row(tmp_path, first):
    from chainrule import datasets

    path = csv_file(tmp_path, f"{first}\n4.9,3.0,1.4,0.2,0\n6.3,3.3,6.0,2.5,2\n")
    with pytest.raises(ValueError, match=r"data\.csv, line 1: the first row holds only numbers"):
        datasets.read_csv(path)
    with pytest.raises(ValueError, match="looks like data, not a header"):
        datasets.read_features(path)


@pytest.mark.parametrize("header", ["0,1,2", "1,2,3", "a,2,3"])
def test_column_numbers_or_names_are_a_header(tmp_path, header):
    from chainrule import datasets

    data = datasets.read_csv(csv_file(tmp_path, f"{header}\n1.5,2,0\n3,4,1\n"))
    assert data.feature_names == header.split(",")[:2]
    assert data.X.tolist() == [[1.5, 2.0], [3.0, 4.0]]  # both rows: none taken as the header


def test_a_field_over_128_kib_is_read_or_named_by_file_line_and_column(tmp_path):
    from chainrule import datasets

    label = "x" * 200_000  # over the csv module's default field limit of 128 KiB
    data = datasets.read_csv(csv_file(tmp_path, f"a,b,y\n1,2,{label}\n3,4,short\n"))
    assert data.y.tolist() == [label, "short"]
    path = csv_file(tmp_path, f"a,b,y\n1,2,0\n\n3,{label},1\n")
    with pytest.raises(ValueError, match=r"data\.csv, line 4: column 'b' is not numeric"):
        datasets.read_csv(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,b,y\n1,2\n3,4,1\n", "line 2: 2 fields where the header has 3"),
        ("a,b,y\n1,2,0,5\n3,4,1\n", "line 2: 4 fields where the header has 3"),
        ("a,b,y\n1,2,0\n3,4,1,7\n", "line 3: 4 fields where the header has 3"),
        ("a,b,y\n1,2,0\n3,x,1\n", "line 3: column 'b' is not numeric \\(it holds 'x'\\)"),
        ("a,b,y\n1,2,0\n3,,1\n", "line 3: column 'b' is not numeric \\(it holds ''\\)"),
        ("a,b,y\n1,2,0\n3,inf,1\n", "line 3: column 'b' holds 'inf', past the float range"),
        ("a,b,y\n", "has a header but no data rows"),
        ("\ufeff", "is empty: a CSV file needs a header row"),
    ],
)
def test_bad_csv_rows_are_named_by_line(tmp_path, text, match):
    from chainrule import datasets

    with pytest.raises(ValueError, match=match):
        datasets.read_csv(csv_file(tmp_path, text))


def test_rows_of_blank_cells_and_spaces_are_read_as_before(tmp_path):
    from chainrule import datasets

    data = datasets.read_csv(csv_file(tmp_path, " a , b ,y\n 1.5 , 2 ,cat \n,,\n\n3,4, dog\n"))
    assert data.feature_names == ["a", "b"]
    assert data.X.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert data.y.tolist() == ["cat", "dog"]


def test_labels_keep_their_text_in_a_file_of_any_length(tmp_path):
    from chainrule import datasets

    data = datasets.read_csv(csv_file(tmp_path, "a,y\n1,1.50\n2,cat\n3, 007\n"))
    assert data.y.tolist() == ["1.50", "cat", "007"]
    # numbers for 300,000 rows, then a label: pandas reads such a column in pieces of
    # different types (and warns); every label keeps its text, and nothing is printed
    rows = "".join(f"{i},{i % 3}.0\n" for i in range(300_000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = datasets.read_csv(csv_file(tmp_path, f"a,y\n{rows}7,cat\n", "long.csv"))
    assert data.y[:3].tolist() == ["0.0", "1.0", "2.0"] and data.y[-1] == "cat"


def test_standard_input_is_read_whole(tmp_path, monkeypatch):
    from chainrule import datasets

    text = "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(1000))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert datasets.read_csv("-").X[:, 0].tolist() == list(range(1000))


def test_features_stream_block_by_block_with_the_lines_of_the_whole_file(tmp_path):
    from chainrule import datasets

    rows = "".join(f"{i},{2 * i},{i % 2}\n" for i in range(10))
    path = csv_file(tmp_path, f"a,b,y\n{rows}\n{rows}")  # a blank line in the middle
    blocks = list(datasets.iter_features(path, ["a", "b"], rows=3))
    assert [len(X) for X in blocks] == [3] * 6 + [2]
    assert np.array_equal(np.vstack(blocks), datasets.read_features(path, ["a", "b"]))
    bad = csv_file(tmp_path, f"a,b,y\n{rows}\n{rows}7,oops,1\n", "bad.csv")
    with pytest.raises(ValueError, match=r"bad\.csv, line 23: column 'b' is not numeric"):
        list(datasets.iter_features(bad, ["a", "b"], rows=3))
