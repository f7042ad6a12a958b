"""Where a step of the large case goes: each compiled piece timed alone at the case's shapes.

Run: ``python benchmarks/parts.py`` (about 1 minute, 1 BLAS thread, the numba engine). It prints
the table of ``docs/performance.md``: the 8 products of a step, the compiled minibatch call
(``chainrule.engine.kernels.cost_and_gradient``) and each of its fused pieces, Adam, then
one-epoch fits with and without the gather on the worker thread, alternating. Medians of
repeated timings.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from speed import LARGE, fit_chainrule, large_data
from threadpoolctl import threadpool_limits

from chainrule import MLPClassifier
from chainrule.engine import blas, compiled, kernels

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
    X, y = large_data()
    bs = LARGE["batch"]
    net = MLPClassifier(LARGE["hidden"], max_iter=1, random_state=0).fit(X[:3000], y[:3000])
    net = net.network_
    engine = compiled.CompiledBackend.for_network(net, bs)
    Y = np.eye(10, dtype=f32)[y]
    idx = np.random.default_rng(0).permutation(len(X))[:bs]
    Xb, Yb, w, n_b = engine.gather(X, Y, np.ones(len(X), f32), idx)
    grad = np.empty_like(net.theta)
    sizes, hidden, out = engine.codes
    W = list(net.W)
    Z = [np.empty((bs, n), f32) for n in sizes[1:]]
    D = [np.empty((bs, n), f32) for n in sizes[1:]]
    T, A = [np.empty_like(z) for z in Z], [np.empty_like(z) for z in Z]
    dW = [np.empty_like(x) for x in W]
    db = [np.empty(n, f32) for n in sizes[1:]]
    theta = net.theta.copy()
    m, v = np.zeros_like(theta), np.full_like(theta, 1e-8)

    def products():  # the 8 products of a step, through the same BLAS call as the kernel
        for k in range(3):
            blas.gemm(blas.NO_TRANS, blas.TRANS, Xb if k == 0 else Z[k - 1], W[k], Z[k])
        for k in (2, 1, 0):
            a = Xb if k == 0 else Z[k - 1]
            blas.gemm(blas.TRANS, blas.NO_TRANS, D[k], a, dW[k])
            if k:
                blas.gemm(blas.NO_TRANS, blas.NO_TRANS, D[k], W[k], D[k - 1])

    pieces = {
        "the 8 matrix products": products,
        "the compiled minibatch call": lambda: kernels.cost_and_gradient(
            Xb,
            Yb,
            w,
            n_b,
            net.theta,
            grad,
            sizes,
            hidden,
            out,
            1e-4,
            engine.work,
            engine.no_WT,
            True,
        ),
        "Adam": lambda: kernels.adam_step(
            theta, grad, m, v, f32(0.9), f32(0.1), f32(0.999), f32(0.001), f32(1e-8), f32(1e-9)
        ),
        "L2 term + ||W||^2": lambda: [
            kernels.add_scaled_sumsq(dW[k], W[k], f32(1e-9)) for k in range(3)
        ],
        "bias + activation": lambda: [
            kernels.bias_activate(1, Z[k], net.b[k], A[k], T[k]) for k in range(2)
        ],
        "bias + softmax + cost + delta^L": lambda: kernels.output_layer(
            1, Z[2], net.b[2], Yb, w, A[2], D[2]
        ),
        "mask + db": lambda: [kernels.mask_colsum(D[k], T[k], db[k]) for k in range(2)],
    }
    steps = -(-len(X) // bs)
    with threadpool_limits(1):
        print("| part | us per step | ms per epoch |\n|---|---:|---:|")
        for name, fn in pieces.items():
            us = per_step_us(fn)
            print(f"| {name} | {us:.1f} | {us * steps / 1000:.1f} |")
        # the call beyond its products, timed in alternation (the machine drifts between timings)
        call, products = pieces["the compiled minibatch call"], pieces["the 8 matrix products"]
        extra = [per_step_us(call, 1) - per_step_us(products, 1) for _ in range(15)]
        print(f"\nthe compiled call beyond its products: {np.median(extra):.1f} us per step")
        with_it, without = [], []
        pays = compiled.prefetch_pays
        try:
            for _ in range(7):
                compiled.prefetch_pays = pays
                with_it.append(fit_chainrule(X, y, LARGE["hidden"], bs, 1)[0])
                compiled.prefetch_pays = lambda *a: False
                without.append(fit_chainrule(X, y, LARGE["hidden"], bs, 1)[0])
        finally:
            compiled.prefetch_pays = pays
        print(
            f"\none-epoch fit, gather on the worker thread: {np.median(with_it):.4f} s; inline: "
            f"{np.median(without):.4f} s (medians of 7 alternating fits)"
        )


if __name__ == "__main__":
    main()
