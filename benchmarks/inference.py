"""Prediction speed for serving: one-row latency, cold start, ``--help``, large batches.

Run: ``python benchmarks/inference.py`` (about a minute; ``--rounds N`` for more or fewer). It
prints, with 1 BLAS thread (threadpoolctl; the BLAS it ran on is printed first):

* one-row latency of ``predict``, ``predict_proba`` and ``predict_log_proba``: chainrule against
  scikit-learn on the same 64-64-10 digits network (scikit-learn's weights copied into
  chainrule's), interleaved: each round times both, and the ratio is the median over rounds of
  that round's ratio;
* cold start: the first ``fit`` + ``predict`` in a new process (a child, via subprocess) against
  the second in that process, for chainrule and for scikit-learn (median over children);
* the wall time of ``chainrule --help`` (median over runs);
* batch ``predict_proba`` of a float32 784-256-128-10 net on 60,000 rows against its three
  matrix products alone (into preallocated arrays), and the peak memory ``predict_proba``
  allocates beyond its output (peak resident memory, in a fresh process).

Issue 13's targets: one-row ratios <= 0.2, cold start <= 0.1 s more than warm, ``--help`` under
0.3 s, batch <= 1.10x the products with memory independent of the row count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import warnings

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # the children too

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

import chainrule as cr

METHODS = ("predict", "predict_proba", "predict_log_proba")

#: a child process: import, then the first and the second fit + predict on digits, as JSON
COLD_START = """
import json, time, warnings
t0 = time.perf_counter()
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
{import_line}
X, y = load_digits(return_X_y=True); X = X / 16.0
warnings.simplefilter("ignore", ConvergenceWarning)
t1 = time.perf_counter()
times = []
for _ in range(2):
    start = time.perf_counter()
    Model(hidden_layer_sizes=(32,), max_iter=5, random_state=0).fit(X, y).predict(X[:1])
    times.append(time.perf_counter() - start)
print(json.dumps({{"import": t1 - t0, "first": times[0], "second": times[1]}}))
"""
IMPORTS = {
    "chainrule": "from chainrule import MLPClassifier as Model",
    "scikit-learn": "from sklearn.neural_network import MLPClassifier as Model",
}


def digits_pair():
    """scikit-learn's 64-64-10 digits network and chainrule's with the same weights."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = SkMLPClassifier((64,), max_iter=30, random_state=0).fit(X, y)
        ours = cr.MLPClassifier((64,), max_iter=1, random_state=0).fit(X, y)
    for mine, theirs in zip(
        ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_, strict=True
    ):
        mine[...] = theirs  # coefs_ and intercepts_ are views of the network's W and b
    np.testing.assert_allclose(ours.predict_proba(X), sk.predict_proba(X), atol=1e-12)
    return ours, sk, X


def per_call(fn, row, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn(row)
    return (time.perf_counter() - start) / calls


def one_row_latency(rounds: int, calls: int = 300) -> None:
    ours, sk, X = digits_pair()
    row = X[:1]
    print(f"\none-row latency, digits 64-64-10 ({rounds} rounds of {calls} calls, interleaved)")
    print(f"{'method':<20}{'chainrule us':>14}{'sklearn us':>12}{'ratio':>8}")
    for method in METHODS:
        mine, theirs = getattr(ours, method), getattr(sk, method)
        per_call(mine, row, calls // 10), per_call(theirs, row, calls // 10)  # warm up
        times = np.array(
            [(per_call(mine, row, calls), per_call(theirs, row, calls)) for _ in range(rounds)]
        )
        ratio = np.median(times[:, 0] / times[:, 1])
        us = np.median(times, axis=0) * 1e6
        print(f"{method:<20}{us[0]:>14.1f}{us[1]:>12.1f}{ratio:>8.2f}")


def cold_start(children: int) -> None:
    print(f"\ncold start: first fit + predict in a new process vs the second ({children} each)")
    print(f"{'library':<14}{'import s':>10}{'first s':>10}{'second s':>10}{'first-second':>14}")
    for name, import_line in IMPORTS.items():
        code = COLD_START.format(import_line=import_line)
        runs = [
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", code], capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(children)
        ]
        med = {key: float(np.median([run[key] for run in runs])) for key in runs[0]}
        extra = float(np.median([run["first"] - run["second"] for run in runs]))
        print(
            f"{name:<14}{med['import']:>10.3f}{med['first']:>10.3f}{med['second']:>10.3f}"
            f"{extra:>14.3f}"
        )


def help_time(runs: int) -> None:
    script = shutil.which("chainrule", path=os.path.dirname(sys.executable))
    command = [script] if script else [sys.executable, "-m", "chainrule"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*command, "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    print(f"\n`chainrule --help`: {np.median(times):.3f} s (median of {runs}; target < 0.3 s)")


def large_model(n_features: int = 784, n_classes: int = 10):
    """A float32 784-256-128-10 classifier (its weights barely trained: speed only)."""
    rng = np.random.default_rng(0)
    X = rng.random((500, n_features), dtype=np.float32)
    y = np.arange(500) % n_classes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cr.MLPClassifier((256, 128), max_iter=1, dtype="float32", random_state=0).fit(X, y)


def products(X, coefs, outs) -> None:
    """The floor: ``a W^m`` for the three layers, into preallocated arrays."""
    a = X
    for W, out in zip(coefs, outs, strict=True):
        np.matmul(a, W, out=out)
        a = out


def batch(rounds: int, n: int = 60000) -> None:
    model = large_model()
    X = np.random.default_rng(1).random((n, 784), dtype=np.float32)
    coefs = [np.ascontiguousarray(W) for W in model.coefs_]
    outs = [np.empty((n, W.shape[1]), np.float32) for W in coefs]
    model.predict_proba(X[:1000])  # warm up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        model.predict_proba(X)
        middle = time.perf_counter()
        products(X, coefs, outs)
        times.append((middle - start, time.perf_counter() - middle))
    times = np.array(times)
    ratio = np.median(times[:, 0] / times[:, 1])
    print(f"\nbatch predict_proba, float32 784-256-128-10, {n:,} rows ({rounds} rounds)")
    print(
        f"predict_proba {np.median(times[:, 0]):.3f} s, matrix products alone "
        f"{np.median(times[:, 1]):.3f} s: ratio {ratio:.2f} (target <= 1.10)"
    )
    probe = [sys.executable, __file__, "--memory-probe", str(n)]
    peak = json.loads(subprocess.run(probe, capture_output=True, text=True, check=True).stdout)
    print(
        f"peak memory beyond the {peak['output'] / 2**20:.1f} MiB output: "
        f"{peak['extra'] / 2**20:.1f} MiB (the activations of all rows: "
        f"{sum(o.nbytes for o in outs) / 2**20:.1f} MiB)"
    )


def memory_probe(n: int) -> None:
    """In a fresh process: the peak resident memory ``predict_proba`` adds beyond its output
    (numba's allocations included, which tracemalloc does not see), as JSON."""
    model = large_model()
    X = np.random.default_rng(1).random((n, 784), dtype=np.float32)
    model.predict_proba(X[:10])
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to the memory resident now (Linux 4.0+)
    before = status_bytes("VmHWM")
    proba = model.predict_proba(X)
    extra = status_bytes("VmHWM") - before - proba.nbytes
    print(json.dumps({"extra": extra, "output": proba.nbytes}))


def status_bytes(field: str) -> int:
    """A memory figure of ``/proc/self/status`` in bytes."""
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(f"{field}:"))
    return int(line.split()[1]) * 1024  # kB


def blas() -> None:
    for pool in threadpool_info():
        print(
            f"BLAS: {pool.get('internal_api')} {pool.get('version')} "
            f"{pool.get('architecture')} ({pool.get('prefix')}, {pool.get('num_threads')} thread)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds of each timing")
    parser.add_argument("--memory-probe", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        with threadpool_limits(1):
            memory_probe(args.memory_probe)
        return
    print(f"chainrule {cr.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    with threadpool_limits(1):
        blas()
        one_row_latency(args.rounds)
        cold_start(children=max(3, args.rounds // 3))
        help_time(runs=5)
        batch(max(3, args.rounds // 3))


if __name__ == "__main__":
    main()
