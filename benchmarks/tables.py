"""Reading a CSV file of at least 100 MB: time and peak memory, before and after (issue 25.1).

Run: ``python benchmarks/tables.py --before /path/to/old/src`` (a few minutes). It writes a
CSV file (``--rows``, by default 900,000 rows of 12 float features and an integer target,
about 127 MiB) and reads it in fresh processes, interleaved over ``--rounds`` rounds:

* ``chainrule.datasets.read_csv`` of this tree and, with ``--before``, of another checkout's
  ``src`` (the reader before the change: the csv module and ``float()`` per cell);
* pandas' ``read_csv`` and pyarrow's ``csv.read_csv``, each to a float matrix, the two
  candidates the reader could be built on;
* ``chainrule predict`` of a small model on the whole file (this tree, and ``--before``).

Each child prints the seconds of the read itself and its peak resident memory
(``ru_maxrss``); the table gives the medians, and the ratios to ``--before`` (each the median
over rounds of that round's ratio). 1 BLAS thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # the children too

import numpy as np

SRC = Path(__file__).resolve().parents[1] / "src"

READ = """
import resource, sys, time
start = time.perf_counter()
which, path = sys.argv[1], sys.argv[2]
if which == "chainrule":
    from chainrule import datasets
    X = datasets.read_csv(path).X
elif which == "pandas":
    import pandas as pd
    X = pd.read_csv(path).to_numpy(dtype=float)
else:
    import numpy as np
    import pyarrow.csv as pc
    X = np.column_stack([c.to_numpy() for c in pc.read_csv(path).columns])
assert X.shape[0] > 0
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""

PREDICT = """
import resource, sys, time
from chainrule.cli import main
start = time.perf_counter()
status = main(["predict", sys.argv[1], sys.argv[2], "-o", sys.argv[3]])
assert status == 0
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def write_csv(path: Path, rows: int, d: int = 12) -> None:
    """``rows`` rows of ``d`` normal features (9 significant digits) and a class in 0..2."""
    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        f.write(",".join([*(f"x{i}" for i in range(d)), "y"]) + "\n")
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            table = np.column_stack([rng.normal(size=(n, d)), rng.integers(0, 3, n)])
            np.savetxt(f, table, fmt=["%.9g"] * d + ["%d"], delimiter=",")


def child(script: str, src: Path, *args: str) -> tuple[float, int]:
    """``(seconds, peak bytes)`` that ``script`` printed, run with ``src`` first on the path."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    seconds, peak = result.stdout.split()[-2:]
    return float(seconds), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="the src folder of the code before")
    parser.add_argument("--rows", type=int, default=900_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data, small = tmp / "big.csv", tmp / "small.csv"
        write_csv(data, args.rows)
        write_csv(small, 2000)
        print(f"{data.stat().st_size / 2**20:.1f} MiB, {args.rows} rows x 13 columns")
        trees = {"after": SRC, **({"before": args.before} if args.before else {})}
        for key, src in trees.items():  # a model file each tree can read
            subprocess.run(
                [sys.executable, "-m", "chainrule", "train", "--data", str(small), "--quiet",
                 "--out", str(tmp / key)],
                env={**os.environ, "PYTHONPATH": str(src)}, check=True, capture_output=True,
            )  # fmt: skip
        cases = {f"read_csv {k}": (READ, src, "chainrule") for k, src in trees.items()}
        cases |= {f"{lib} alone": (READ, SRC, lib) for lib in ("pandas", "pyarrow")}
        cases |= {f"predict {k}": (PREDICT, src, k) for k, src in trees.items()}
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (script, src, which) in cases.items():
                model = (str(tmp / which), str(data), str(tmp / "out.csv"))
                argv = model if script is PREDICT else (which, str(data))
                results[name].append(child(script, src, *argv))
        report(results, args.before is not None)


def report(results: dict[str, list[tuple[float, int]]], compare: bool) -> None:
    print(f"{'case':<22}{'seconds':>9}{'peak MiB':>10}{'time ratio':>12}{'memory ratio':>14}")
    for name, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        peak = statistics.median(p for _, p in runs) / 2**20
        line = f"{name:<22}{seconds:>9.2f}{peak:>10.0f}"
        base = name.split()[0] + " before"
        if compare and base in results and not name.endswith("before"):
            pairs = list(zip(runs, results[base], strict=True))
            line += f"{statistics.median(a[0] / b[0] for a, b in pairs):>12.2f}"
            line += f"{statistics.median(a[1] / b[1] for a, b in pairs):>14.2f}"
        print(line)


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s)")
