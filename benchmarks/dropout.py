"""Dropout's cost per training step on speed.py's large case, beside the same fit without it.

Run: ``python benchmarks/dropout.py`` (about 2 minutes; ``--rounds N``). The large case of
``benchmarks/speed.py``: 60000 x 784 float32, 784-256-128-10, Adam, batch 256, one epoch, on
the compiled engine, 1 BLAS thread. Each round fits once without dropout and once with
``dropout=0.5`` on both hidden layers, interleaved; the ratio is the median over rounds of the
two times of a round (timings on a shared machine drift between rounds, not within one).
Target (issue 26): under 1.10x.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from speed import LARGE, large_data
from threadpoolctl import threadpool_limits

from chainrule import MLPClassifier


def fit(X, y, dropout: float) -> tuple[float, float, int]:
    """Seconds of a one-epoch fit (wall clock, and this process's CPU time: on a loaded
    machine the first counts the waits for a core too), and its number of steps."""
    clf = MLPClassifier(
        LARGE["hidden"], batch_size=LARGE["batch"], max_iter=1, random_state=0,
        dtype="float32", dropout=dropout,
    )  # fmt: skip
    t, cpu = time.perf_counter(), time.process_time()
    clf.fit(X, y)
    return time.perf_counter() - t, time.process_time() - cpu, clf._steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = large_data()
    with threadpool_limits(1):
        fit(X[:2048], y[:2048], 0.5)  # warm up
        times = {0.0: [], 0.5: []}
        for _ in range(args.rounds):
            for p in times:
                *seconds, steps = fit(X, y, p)
                times[p].append(seconds)
    for k, clock in enumerate(("wall clock", "CPU time")):
        for p, t in times.items():
            epoch = np.median([s[k] for s in t])
            print(
                f"{clock}, dropout={p}: {epoch:.3f} s an epoch, {epoch / steps * 1e3:.2f} ms a step"
            )
        ratio = np.median([a[k] / b[k] for a, b in zip(times[0.5], times[0.0], strict=True)])
        print(
            f"{clock}: dropout=0.5 / dropout=0, median of {args.rounds} paired rounds: {ratio:.3f}x"
        )


if __name__ == "__main__":
    main()
