"""Where a step of the large case goes: the compiled engine's calls beside their matrix products.

Run: ``python benchmarks/parts.py`` (about 20 seconds, 1 BLAS thread). At the large case's shapes
(float32, 784-256-128-10, batch 256) it prints the time per step of the 8 matrix products of a
step (numpy's ``matmul`` into preallocated arrays), one compiled minibatch
(``native.cost_and_gradient``: gather excluded), one compiled update (Adam) and a step of a
whole compiled epoch (``CompiledBackend.run_epoch``: gather, minibatch, update), then the
minibatch call beyond its products, timed in alternation. Medians of repeated timings.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from speed import LARGE, large_data
from threadpoolctl import threadpool_limits

import chainrule as cr
from chainrule.engine import compiled, native

f32 = np.float32


def per_step_us(fn, repeats: int = 7, calls: int = 50) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t) / calls * 1e6)
    return float(np.median(times))


def main() -> None:
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = large_data(n=10240)
    bs = LARGE["batch"]
    sizes = [X.shape[1], *LARGE["hidden"], 10]
    net = cr.Network(
        sizes, activation="relu", cost="categorical_cross_entropy", alpha=1e-4, dtype=f32,
        random_state=0,
    )  # fmt: skip
    backend = compiled.CompiledBackend.for_network(net, bs)
    Y, sw = np.eye(10, dtype=f32)[y], np.ones(len(X), f32)
    Xb, Yb, w, n_b = backend.gather(X, Y, sw, np.arange(bs))
    grad = np.empty_like(net.theta)
    W = list(net.W)
    Z = [np.empty((bs, n), f32) for n in sizes[1:]]
    D = [np.empty((bs, n), f32) for n in sizes[1:]]
    dW = [np.empty_like(x) for x in W]
    adam = cr.Adam(1e-3)
    update = compiled.rule(adam, net.theta)
    step = compiled.fused_step(adam, net.theta.copy())
    theta = net.theta.copy()
    order = np.random.default_rng(0).permutation(len(X))

    def products():  # the 8 products of a step
        for k in range(3):
            np.matmul(Xb if k == 0 else Z[k - 1], W[k].T, out=Z[k])
        for k in (2, 1, 0):
            np.matmul(D[k].T, Xb if k == 0 else Z[k - 1], out=dW[k])
            if k:
                np.matmul(D[k], W[k], out=D[k - 1])

    def minibatch():
        native.cost_and_gradient(backend.layout, Xb, Yb, w, n_b, net.theta, grad, backend.work)

    def epoch():  # per step: an epoch of len(X) / bs steps, divided below
        backend.run_epoch(adam, update, X, Y, sw, order, grad, None)

    steps = len(X) // bs
    with threadpool_limits(1):
        print("| part | us per step |\n|---|---:|")
        for name, fn, per in [
            ("the 8 matrix products (numpy's matmul)", products, 1),
            ("one compiled minibatch (forward, delta^L, backward, L2)", minibatch, 1),
            ("Adam on the flat parameters (one compiled pass)", lambda: step(theta, grad), 1),
            ("a step of a compiled epoch (gather, minibatch, Adam)", epoch, steps),
        ]:
            calls = 50 if per == 1 else 1
            print(f"| {name} | {per_step_us(fn, calls=calls) / per:.1f} |")
        extra = [per_step_us(minibatch, 1) - per_step_us(products, 1) for _ in range(15)]
        print(f"\nthe compiled minibatch beyond its products: {np.median(extra):.1f} us per step")


if __name__ == "__main__":
    main()
