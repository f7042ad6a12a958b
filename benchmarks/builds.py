"""The compiled engine's two x86-64 builds side by side: ``native`` (for every CPU) and
``native_avx2`` (the same source with 4-wide vectors, the one chainrule runs where the CPU has
AVX2 and FMA).

Run: ``python benchmarks/builds.py`` (about 2 minutes; ``--rounds N``, default 7). In one
process with 1 BLAS thread, each round fits every case once with each build (which goes first
alternates), swapping ``chainrule.engine.compiled.native``, the module the compiled side calls;
it prints each case's median time per build and the median over rounds of that round's ratio
(AVX2 / baseline), and checks that both builds end on the same loss (they give the same bits:
``tests/engine/test_native_avx2.py``).

Cases: ``speed.py``'s two, in float32 and float64 (the drop-in estimators' dtype):

* large: 784-256-128-10, batch 256, one epoch of 10240 rows of its MNIST-shaped data;
* small: digits 64-32-10, batch 32, 20 epochs.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from speed import LARGE, SMALL, fit_chainrule, large_data, small_data
from threadpoolctl import threadpool_info, threadpool_limits

from chainrule.engine import compiled, native


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    try:
        from chainrule.engine import native_avx2
    except ImportError:
        sys.exit("no AVX2 build here (setup.py builds it on x86-64 with GCC or Clang)")
    if not native.cpu_has_avx2():
        sys.exit("this CPU has no AVX2 and FMA: it runs the baseline build only")
    warnings.simplefilter("ignore", ConvergenceWarning)
    large, small = large_data(n=10240), small_data()
    cases = {}
    for dtype in ("float32", "float64"):
        cases[f"large, one epoch, {dtype}"] = (large, LARGE["hidden"], LARGE["batch"], 1, dtype)
        cases[f"small, 20 epochs, {dtype}"] = (small, SMALL["hidden"], SMALL["batch"], 20, dtype)
    builds = {"baseline": native, "AVX2": native_avx2}
    times = {(case, b): [] for case in cases for b in builds}
    losses = {}
    with threadpool_limits(1):
        blas = [f"{i['internal_api']} {i['version']}" for i in threadpool_info()]
        print(f"BLAS: {', '.join(blas)}; 1 thread\n")
        for r in range(args.rounds):
            for case, ((X, y), hidden, batch, epochs, dtype) in cases.items():
                order = list(builds) if r % 2 == 0 else list(builds)[::-1]
                for name in order:
                    compiled.native = builds[name]
                    seconds, loss, _ = fit_chainrule(X, y, hidden, batch, epochs, dtype)
                    times[case, name].append(seconds)
                    losses[case, name] = loss
    print("| case | baseline (s) | AVX2 (s) | AVX2 / baseline | same loss |")
    print("|---|---:|---:|---:|---|")
    for case in cases:
        base, avx2 = times[case, "baseline"], times[case, "AVX2"]
        same = losses[case, "baseline"] == losses[case, "AVX2"]
        print(
            f"| {case} | {np.median(base):.3f} | {np.median(avx2):.3f} | "
            f"{np.median(np.divide(avx2, base)):.2f}x | {'yes' if same else 'NO'} |"
        )


if __name__ == "__main__":
    main()
