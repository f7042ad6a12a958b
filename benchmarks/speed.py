"""Training and prediction speed of chainrule beside scikit-learn and PyTorch, on a CPU.

Run: ``python benchmarks/speed.py`` (about 4 minutes; ``--quick`` for one round). Everything
runs in this one process (the peak-memory probes in child processes), interleaved: each round
times every contestant once; the table reports the median time over rounds and, for each ratio,
the median of that ratio over rounds, with 1 and then 2 BLAS threads. If ``OPENBLAS_CORETYPE``
or ``OPENBLAS_L2_SIZE`` is set, the script re-runs itself without them (``--keep-env`` keeps
them); the BLAS it ran on is printed first.

Cases (both with Adam, learning rate 0.001, scikit-learn's default ``alpha=1e-4``):

* large: 60000 x 784 float32, 10 classes, net 784-256-128-10, batch 256, one epoch. The data is
  synthetic and MNIST-shaped (no download): 10 Gaussian clusters in 32 dimensions, mapped to
  784 by a fixed random projection and a ReLU, scaled to [0, 1].
* small: scikit-learn's digits (1797 x 64, scaled to [0, 1]), net 64-32-10, batch 32; the time
  per minibatch step is a 20-epoch fit divided by its number of steps.

"matrix products alone" is the floor: the 8 matrix products of a training step (3 forward,
3 weight gradients, 2 back-propagated deltas) on contiguous slices, into preallocated arrays.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from itertools import pairwise

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

from chainrule import MLPClassifier
from chainrule.engine import select

try:
    import torch
except ImportError:  # PyTorch is optional
    torch = None

LARGE = {"hidden": (256, 128), "batch": 256}
SMALL = {"hidden": (32,), "batch": 32, "epochs": 20}


def large_data(n: int = 60000, d: int = 784, k: int = 10, seed: int = 0):
    """MNIST-shaped synthetic data: float32, C-contiguous, values in [0, 1]."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centers = rng.normal(size=(k, 32)).astype(np.float32)
    projection = (rng.normal(size=(32, d)) / np.sqrt(32)).astype(np.float32)
    X = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, 10000):  # in blocks, so that making it needs little memory
        rows = slice(start, start + 10000)
        latent = centers[y[rows]] + rng.normal(size=(len(y[rows]), 32)).astype(np.float32)
        np.maximum(latent @ projection, 0, out=X[rows])
    X /= X.max()
    return X, y


def small_data():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


# -- contestants: each returns (seconds, final loss) --------------------------------------------


def fit_chainrule(X, y, hidden, batch, epochs, dtype="float32", engine=None):
    clf = MLPClassifier(
        hidden, batch_size=batch, max_iter=epochs, random_state=0, dtype=dtype, tol=0.0,
        n_iter_no_change=10**6,
    )  # fmt: skip
    with select.use_engine(engine or select.engine()):
        t = time.perf_counter()
        clf.fit(X, y)
        return time.perf_counter() - t, clf.loss_, clf._steps


def fit_sklearn(X, y, hidden, batch, epochs, dtype=np.float64):
    clf = SkMLPClassifier(
        hidden, batch_size=batch, max_iter=epochs, random_state=0, tol=0.0,
        n_iter_no_change=10**6,
    )  # fmt: skip
    X = X.astype(dtype)
    t = time.perf_counter()
    clf.fit(X, y)
    steps = clf.n_iter_ * -(-X.shape[0] // batch)
    return time.perf_counter() - t, clf.loss_, steps


def fit_torch(X, y, hidden, batch, epochs, fused=False):
    torch.manual_seed(0)
    sizes = [X.shape[1], *hidden, int(y.max()) + 1]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused or None)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.int64))
    g = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    steps, total = 0, 0.0
    for _ in range(epochs):
        total = 0.0
        order = torch.randperm(X.shape[0], generator=g)
        for start in range(0, X.shape[0], batch):
            idx = order[start : start + batch]
            xb, yb = Xt.index_select(0, idx), yt.index_select(0, idx)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)
            steps += 1
    return time.perf_counter() - t, float(total) / X.shape[0], steps


def products_alone(X, y, hidden, batch, epochs):
    """The 8 matrix products of every step, and nothing else."""
    sizes = [X.shape[1], *hidden, 10]
    rng = np.random.default_rng(0)
    W = [rng.normal(size=(o, i)).astype(X.dtype) * 0.01 for i, o in pairwise(sizes)]
    Z = [np.empty((batch, o), dtype=X.dtype) for o in sizes[1:]]
    D = [np.empty((batch, o), dtype=X.dtype) for o in sizes[1:]]
    dW = [np.empty_like(w) for w in W]
    t = time.perf_counter()
    steps = 0
    for _ in range(epochs):
        for start in range(0, X.shape[0] - batch + 1, batch):
            a = X[start : start + batch]
            for m in range(len(W)):
                np.matmul(a if m == 0 else Z[m - 1], W[m].T, out=Z[m])
            D[-1][...] = Z[-1]
            for m in range(len(W) - 1, -1, -1):
                np.matmul(D[m].T, a if m == 0 else Z[m - 1], out=dW[m])
                if m > 0:
                    np.matmul(D[m], W[m], out=D[m - 1])
            steps += 1
    seconds = (time.perf_counter() - t) * (X.shape[0] / batch) / (steps / epochs)
    return seconds, float("nan"), int(steps * X.shape[0] / batch / (steps / epochs))


def predict_contestants(X, clf):
    net = clf.network_

    def predict():
        t = time.perf_counter()
        clf.predict_proba(X)
        return time.perf_counter() - t, float("nan"), 0

    def products():
        out = [np.empty((X.shape[0], w.shape[0]), dtype=X.dtype) for w in net.W]
        t = time.perf_counter()
        a = X
        for m, w in enumerate(net.W):
            np.matmul(a, w.T, out=out[m])
            a = out[m]
        return time.perf_counter() - t, float("nan"), 0

    return {"chainrule predict_proba": predict, "predict products alone": products}


def contestants(X, y, case: dict, epochs: int, full: bool):
    h, b = case["hidden"], case["batch"]
    c = {
        "chainrule f32": lambda: fit_chainrule(X, y, h, b, epochs),
        "chainrule f64": lambda: fit_chainrule(X, y, h, b, epochs, dtype="float64"),
        "scikit-learn f64": lambda: fit_sklearn(X, y, h, b, epochs),
        "scikit-learn f32": lambda: fit_sklearn(X, y, h, b, epochs, np.float32),
    }
    if full:
        c["chainrule f32 reference"] = lambda: fit_chainrule(X, y, h, b, epochs, engine="reference")
    if torch is not None:
        c["PyTorch f32 eager"] = lambda: fit_torch(X, y, h, b, epochs)
        c["PyTorch fused Adam"] = lambda: fit_torch(X, y, h, b, epochs, fused=True)
    c["matrix products alone"] = lambda: products_alone(X, y, h, b, epochs)
    return c


def run_rounds(fns: dict, rounds: int) -> dict:
    """``{name: (median seconds, final loss, steps, seconds of each round)}``."""
    times = {k: [] for k in fns}
    extra = {}
    for _ in range(rounds):
        for name, fn in fns.items():
            seconds, loss, steps = fn()
            times[name].append(seconds)
            extra[name] = (loss, steps)
    return {k: (float(np.median(v)), *extra[k], v) for k, v in times.items()}


def paired_ratio(results: dict, name: str, base: str) -> float:
    """The median over rounds of ``name``'s time / ``base``'s time in the same round: timings
    on a shared machine drift from round to round, and both contestants of a round see the
    same drift."""
    return float(np.median(np.divide(results[name][3], results[base][3])))


def set_threads(n: int):
    if torch is not None:
        torch.set_num_threads(n)
    return threadpool_limits(n)


def peak_memory_probe(library: str) -> dict:
    """Peak resident memory of one float32 epoch on the large case, in a fresh process."""
    code = f"""
import json, resource, sys, warnings
sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r})
import speed
from threadpoolctl import threadpool_limits
X, y = speed.large_data()
with open("/proc/self/status") as f:
    before = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
warnings.simplefilter("ignore")
with threadpool_limits(1):
    if {library!r} == "chainrule":
        speed.fit_chainrule(X, y, (256, 128), 256, 1)
    else:
        speed.fit_sklearn(X, y, (256, 128), 256, 1, __import__("numpy").float32)
with open("/proc/self/status") as f:  # VmHWM: this process's peak (ru_maxrss survives exec)
    peak = next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024
print(json.dumps({{"data": X.nbytes / 2**20, "before": before, "peak": peak}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(title: str, results: dict, per_step: bool, floor: str, peers: list[str]) -> None:
    print(f"\n### {title}\n")
    unit = "us/step" if per_step else "s"
    print(f"| contestant | median {unit} | x floor | chainrule f32 faster by | final loss |")
    # the ratios are medians of per-round ratios (paired_ratio), not ratios of the medians
    print("|---|---:|---:|---:|---:|")
    for name, (sec, loss, steps, _) in results.items():
        value = sec / steps * 1e6 if per_step else sec
        # per step, the contestants' step counts differ by at most the last partial minibatch
        per = results[name][2] / results["chainrule f32"][2] if per_step else 1.0
        per_floor = results[name][2] / results[floor][2] if per_step else 1.0
        speedup = paired_ratio(results, name, "chainrule f32") / per
        loss_s = "" if np.isnan(loss) else f"{loss:.4f}"
        print(
            f"| {name} | {value:.{1 if per_step else 3}f} | "
            f"{paired_ratio(results, name, floor) / per_floor:.2f} | {speedup:.2f}x | {loss_s} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round, 1 thread only")
    parser.add_argument("--keep-env", action="store_true", help="keep OPENBLAS_* settings")
    parser.add_argument("--full", action="store_true", help="also time the reference engine")
    args = parser.parse_args()
    blas_vars = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    if not args.keep_env and any(v in os.environ for v in blas_vars):
        env = {k: v for k, v in os.environ.items() if k not in blas_vars}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    warnings.simplefilter("ignore", ConvergenceWarning)
    print("BLAS:", json.dumps([
        {k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
        for i in threadpool_info()
    ]))  # fmt: skip
    print(f"engine: {select.engine()}; PyTorch: {torch.__version__ if torch else 'not installed'}")
    Xl, yl = large_data()
    Xs, ys = small_data()
    rounds_large, rounds_small = (1, 1) if args.quick else (9, 5)
    # warm up: BLAS and torch initialise
    with set_threads(1):
        for fn in contestants(Xs, ys, SMALL, 1, args.full).values():
            fn()
        fit_chainrule(Xs, ys, SMALL["hidden"], SMALL["batch"], 1, dtype="float64")
        fit_chainrule(Xl[:2048], yl[:2048], LARGE["hidden"], LARGE["batch"], 1)
        fit_chainrule(Xl[:2048], yl[:2048], LARGE["hidden"], LARGE["batch"], 1, "float64")
    for threads in (1,) if args.quick else (1, 2):
        with set_threads(threads):
            print(f"\n## {threads} thread(s)")
            large = run_rounds(contestants(Xl, yl, LARGE, 1, args.full), rounds_large)
            table(
                "large: 60000 x 784, 784-256-128-10, batch 256, one epoch",
                large, False, "matrix products alone",
                ["scikit-learn f64", "scikit-learn f32", "PyTorch fused Adam"],
            )  # fmt: skip
            small = run_rounds(contestants(Xs, ys, SMALL, SMALL["epochs"], args.full), rounds_small)
            table(
                "small: digits 1797 x 64, 64-32-10, batch 32, per minibatch step",
                small, True, "matrix products alone", [],
            )  # fmt: skip
            clf = MLPClassifier(LARGE["hidden"], max_iter=1, random_state=0).fit(
                Xl[:5000], yl[:5000]
            )
            pred = run_rounds(predict_contestants(Xl, clf), rounds_large + 2)
            p, f = pred["chainrule predict_proba"][0], pred["predict products alone"][0]
            ratio = paired_ratio(pred, "chainrule predict_proba", "predict products alone")
            print(f"\npredict_proba on 60000 rows: {p:.3f} s; its products {f:.3f} s: {ratio:.2f}x")
            f64 = paired_ratio(large, "chainrule f64", "chainrule f32")
            print(f"float64 / float32 epoch: {f64:.2f}x")
            per_round = np.divide(large["chainrule f32"][3], large["matrix products alone"][3])
            low, high = per_round.min(), per_round.max()
            print(f"large, chainrule f32 / floor in each round: {low:.2f}x to {high:.2f}x")
    if not args.quick:
        print("\n### peak resident memory, one float32 epoch of the large case (MiB)\n")
        for library in ("chainrule", "scikit-learn"):
            m = peak_memory_probe(library)
            print(
                f"{library}: data {m['data']:.0f}, peak before the fit {m['before']:.0f}, peak "
                f"{m['peak']:.0f}: the fit adds {m['peak'] - m['before']:.0f}"
            )
    print(
        f"\nmax RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10} MiB"
    )


if __name__ == "__main__":
    main()
