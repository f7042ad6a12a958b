"""Training past one machine's memory: ``MLPRegressor.fit`` on dask input against the same fit
in memory.

Run: ``python benchmarks/scale.py`` (about 2 minutes); the 1.6 GB case of issue 14 is
``--no-memory --rows 2000000 --rounds 1 --lbfgs-rows 0``. Needs ``pip install chainrule[dask]
psutil``.

* **streaming**: one epoch of ``MLPRegressor(solver="adam", batch_size=256,
  hidden_layer_sizes=(64, 32), max_iter=1).fit(X, y)`` over ``n x 100`` float64 rows, in
  blocks of 20,000 rows (the estimator streams them: next block prefetched, compiled minibatch
  steps), against the same fit on the arrays in memory (the compiled epoch). The blocks come
  from memory (``da.from_array``, threaded scheduler), persisted on a ``LocalCluster`` of 2
  worker processes, or generated lazily by ``dask.array.random`` (in a thread, or on the
  workers). The contestants take turns for ``--rounds`` fits each; the best of each is
  reported: samples/s (the whole ``fit``, set-up included), the ratio to memory, the client's
  peak RSS growth during the fit, and each worker's peak RSS (over the whole run). Without
  ``--no-memory``'s data on the client, a lazy ``predict`` of every row follows.
* **L-BFGS**: the time of one ``BlockObjective`` call (the cost and gradient over every block,
  blocks persisted on the workers: what each L-BFGS iteration of ``fit`` computes) on a cluster
  of 1 and of 2 worker processes, beside the same on the arrays in memory; median of 5 calls.

Timings use 1 BLAS thread per process (``OPENBLAS_NUM_THREADS=1`` is set before numpy loads).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import logging
import resource
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import dask
import dask.array as da
import numpy as np
import psutil
from distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning

import chainrule as cr
from chainrule.scale import BlockObjective, Blocks

D, CHUNK, BATCH, HIDDEN = 100, 20_000, 256, (64, 32)


def estimator() -> cr.MLPRegressor:
    """One epoch of Adam, minibatches of 256, no early stopping."""
    return cr.MLPRegressor(
        hidden_layer_sizes=HIDDEN, batch_size=BATCH, max_iter=1, random_state=0, alpha=1e-4
    )


def data(n: int) -> tuple[da.Array, da.Array]:
    """``X`` (n x 100) and ``y = sin(x_0) + x_1 x_2 + noise``, lazy, made where computed."""
    X = da.random.default_rng(0).normal(size=(n, D), chunks=(CHUNK, D))
    noise = da.random.default_rng(1).normal(scale=0.1, size=n, chunks=CHUNK)
    Y = (da.sin(X[:, 0]) + X[:, 1] * X[:, 2] + noise)[:, None]
    return X, Y


def network() -> cr.Network:
    return cr.Network([D, *HIDDEN, 1], activation="relu", alpha=1e-4, random_state=0)


class PeakRSS:
    """The peak resident memory of this process above its level at the start, sampled."""

    def __init__(self) -> None:
        self.process, self.done = psutil.Process(), threading.Event()
        self.base = self.peak = self.process.memory_info().rss
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.done.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def fit_epoch(X, y) -> tuple[int, float, cr.MLPRegressor]:
    """One epoch of :func:`estimator` on ``X``, ``y``: the samples, the seconds, the model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch never converges
        start = time.perf_counter()
        model = estimator().fit(X, y)
    return len(y), time.perf_counter() - start, model


def worker_peaks_mb(client: Client) -> list[float]:
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return [round(kb / 1024) for kb in peaks.values()]  # ru_maxrss is in KiB on Linux


def streaming(n: int, rounds: int, memory: bool) -> None:
    """Print the streaming table; ``memory=False`` keeps the data off the client entirely (the
    cluster-generated contestant alone, then a lazy prediction of every row)."""
    X, Y = data(n)
    y = Y[:, 0]
    print(f"\nstreaming one epoch: {n} x {D} float64 ({X.nbytes / 2**20:.0f} MB), batch {BATCH}")
    best: dict[str, tuple[float, float]] = {}  # name -> (samples/s, client growth MB)

    def run(name: str, X, y) -> cr.MLPRegressor:
        with PeakRSS() as mem:
            seen, secs, model = fit_epoch(X, y)
        rate, growth = best.get(name, (0.0, 0.0))
        best[name] = (max(rate, seen / secs), max(growth, mem.growth_mb))
        return model

    X_small, y_small = dask.compute(X[:CHUNK], y[:CHUNK], scheduler="threads")
    fit_epoch(X_small, y_small)  # imports and compiles the engine before any memory is measured
    with dask.config.set(scheduler="threads"):
        fit_epoch(X[: 2 * CHUNK], y[: 2 * CHUNK])  # the dask path's imports, likewise
    if memory:
        X_mem, y_mem = dask.compute(X, y, scheduler="threads")
        dX, dy = da.from_array(X_mem, chunks=(CHUNK, D)), da.from_array(y_mem, chunks=CHUNK)
    with cluster(2) as client:
        kept = client.persist([X, y]) if memory else None  # blocks in the workers' memory
        for _ in range(rounds):  # interleaved, so that all see the same drift of the machine
            if memory:
                run("in memory", X_mem, y_mem)
                with dask.config.set(scheduler="threads"):
                    run("threads, blocks in memory", dX, dy)
                    run("threads, blocks generated", X, y)
            with client.as_current():
                if memory:
                    run("cluster, blocks persisted", *kept)
                model = run("cluster, blocks generated", X, y)
        if not memory:
            with client.as_current(), PeakRSS() as mem:
                mean = float(model.predict(X).mean().compute())  # lazy: block by block
            growth = mem.growth_mb
            print(f"  lazy prediction of {n} rows (mean {mean:.3f}): client peak +{growth:.0f} MB")
        workers = worker_peaks_mb(client)
    reference = best["in memory"][0] if memory else None
    for name, (rate, growth) in best.items():
        ratio = f"{rate / reference:5.2f}x" if reference else ""
        extra = f", worker peak RSS {workers} MB" if name.startswith("cluster") else ""
        print(f"  {name:<28} {rate:>10,.0f} samples/s {ratio}  client peak +{growth:.0f} MB{extra}")


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@contextmanager
def cluster(n_workers: int) -> Iterator[Client]:
    """A client, made current, on a fresh loopback cluster of 1-thread worker processes."""
    with LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        memory_limit="2GiB",
    ) as local:
        with Client(local) as client:
            yield client


def median_time(f, *args, repeat: int = 5) -> float:
    f(*args)  # warm up (first call ships the code)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def lbfgs(n: int) -> None:
    X, Y = data(n)
    net = network()
    print(f"\nL-BFGS cost+gradient over {n} x {D} (blocks of {CHUNK} rows, persisted):")
    X_mem, Y_mem = dask.compute(X, Y, scheduler="threads")
    t_mem = median_time(net.cost_and_gradient, X_mem, Y_mem)
    print(f"  {'in memory':<28} {t_mem * 1e3:8.1f} ms")
    del X_mem, Y_mem
    times, fits = {}, {}
    lbfgs_fit = cr.MLPRegressor(hidden_layer_sizes=HIDDEN, solver="lbfgs", max_iter=5)
    for n_workers in (1, 2):
        with cluster(n_workers):
            objective = BlockObjective(net, Blocks.from_dask(X, Y))
            times[n_workers] = median_time(objective, net.theta)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                lbfgs_fit.fit(X, Y[:, 0])  # blocks generated, persisted, 5 iterations
                fits[n_workers] = time.perf_counter() - start
        speedup = f"  ({times[1] / times[n_workers]:.2f}x of 1 worker)" if n_workers > 1 else ""
        name = f"LocalCluster, {n_workers} worker(s)"
        print(
            f"  {name:<28} {times[n_workers] * 1e3:8.1f} ms{speedup}; "
            f"MLPRegressor(solver='lbfgs', max_iter=5).fit: {fits[n_workers]:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000, help="rows streamed (default 4e5)")
    parser.add_argument("--lbfgs-rows", type=int, default=400_000)
    parser.add_argument("--rounds", type=int, default=2, help="epochs per contestant (best)")
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="never hold the data on the client: stream blocks generated on the workers only",
    )
    parser.add_argument("--hidden", default="64,32", help="hidden layer sizes (default 64,32)")
    args = parser.parse_args()
    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # shutdown chatter
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs (load average {load}), OPENBLAS_NUM_THREADS=1")
    global HIDDEN
    HIDDEN = tuple(int(h) for h in args.hidden.split(","))
    print(f"net {D}-{'-'.join(map(str, HIDDEN))}-1, Adam, 1 thread per process")
    streaming(args.rows, args.rounds, memory=not args.no_memory)
    if args.lbfgs_rows:
        lbfgs(args.lbfgs_rows)


if __name__ == "__main__":
    main()
