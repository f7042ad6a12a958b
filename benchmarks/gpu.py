"""Training speed on a GPU: chainrule on torch CUDA tensors beside PyTorch, eager and compiled.

Run: ``python benchmarks/gpu.py`` (``--epochs``, ``--rounds``; ``--rows`` for a smaller data
set). Where torch has no CUDA device it prints "no CUDA device" and exits 0. ``--device cpu``
runs the same contestants on torch CPU tensors, as a smoke test of the script itself.

The case is ``speed.py``'s large one: 60000 x 784 float32 (synthetic, MNIST-shaped), 10 classes,
net 784-256-128-10 with ReLU, softmax output and cross-entropy, batch 256, Adam (learning rate
0.001, betas 0.9 and 0.999, epsilon 1e-8), L2 penalty ``alpha = 1e-4`` as scikit-learn and
chainrule define it (``alpha / (2 n_batch) sum_m ||W^m||^2``, weights only), shuffled every
epoch. The contestants, all on the same device, from the same initial weights:

* chainrule: ``MLPClassifier.fit`` on the CUDA tensors under
  ``sklearn.config_context(array_api_dispatch=True)``;
* PyTorch eager: ``torch.nn`` layers, ``torch.optim.Adam`` (its default foreach update), one
  Python step per minibatch;
* PyTorch compiled: the same loop with the model's forward-and-loss and the optimizer step each
  through ``torch.compile`` (the compile time is reported apart, not in the epoch times).

The initial weights are chainrule's own: a probe ``MLPClassifier`` with the same
``random_state`` takes one Adam step with a learning rate of 1e-30 (so its weights are its
initial weights to within 1e-30) and both PyTorch models copy them. The one difference in the
update rule: PyTorch adds epsilon to ``sqrt(v_hat)``, chainrule and scikit-learn to ``sqrt(v)``
(a change of at most epsilon in the denominator). Each round times every contestant once
(``--epochs`` epochs from the initial weights, the GPU synchronised before the clock stops);
the table reports the median seconds per epoch over rounds and the last epoch's training loss.
chainrule's time is that of ``fit``: its one-off input validation and target encoding are
spread over the epochs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import traceback
import warnings

HIDDEN = (256, 128)
BATCH = 256
LEARNING_RATE = 1e-3
BETAS = (0.9, 0.999)
EPSILON = 1e-8
ALPHA = 1e-4
SEED = 0


def cuda_or_none():
    """torch, if it is installed and sees a CUDA device; else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def initial_weights(X, y):
    """chainrule's initial ``(W, b)`` for ``random_state=SEED``, as NumPy float32 arrays
    (``W[m]`` of shape ``(N^m, N^(m-1))``, as ``torch.nn.Linear.weight``)."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from chainrule import MLPClassifier

    rows = np.concatenate([np.flatnonzero(y == k)[:20] for k in np.unique(y)])  # every class
    probe = MLPClassifier(
        HIDDEN, batch_size=len(rows), max_iter=1, learning_rate_init=1e-30, alpha=ALPHA,
        random_state=SEED, dtype="float32", shuffle=False,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        probe.fit(X[rows], y[rows])
    W = [np.ascontiguousarray(c.T) for c in probe.coefs_]
    b = [np.array(i) for i in probe.intercepts_]
    return W, b


class TorchContestant:
    """The PyTorch loop: built once (so that ``torch.compile`` compiles once); each run resets
    the weights and the optimizer state in place and trains ``epochs`` epochs."""

    def __init__(self, torch, W, b, device, compiled: bool):
        self.torch, self.device = torch, device
        layers = []
        for m, W_m in enumerate(W):
            linear = torch.nn.Linear(W_m.shape[1], W_m.shape[0], device=device)
            layers.append(linear)
            if m < len(W) - 1:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.linears = [layer for layer in layers if isinstance(layer, torch.nn.Linear)]
        self.W0 = [torch.asarray(W_m, device=device) for W_m in W]
        self.b0 = [torch.asarray(b_m, device=device) for b_m in b]
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=LEARNING_RATE, betas=BETAS, eps=EPSILON
        )
        self.loss_fn = self._loss
        self.update = self.optimizer.step
        if compiled:
            self.loss_fn = torch.compile(self._loss)
            self.update = torch.compile(self._step)

    def _step(self):
        self.optimizer.step()

    def _loss(self, xb, yb):
        """Mean cross-entropy of the minibatch plus ``alpha / (2 n) sum_m ||W^m||^2``."""
        F = self.torch.nn.functional
        penalty = sum((linear.weight * linear.weight).sum() for linear in self.linears)
        return F.cross_entropy(self.model(xb), yb) + ALPHA / (2 * xb.shape[0]) * penalty

    def reset(self):
        with self.torch.no_grad():
            for linear, W_m, b_m in zip(self.linears, self.W0, self.b0, strict=True):
                linear.weight.copy_(W_m)
                linear.bias.copy_(b_m)
            for state in self.optimizer.state.values():  # in place: compiled code keeps them
                for value in state.values():
                    if self.torch.is_tensor(value):
                        value.zero_()

    def run(self, X, y, epochs: int, generator) -> float:
        """Train ``epochs`` epochs; returns the last epoch's mean minibatch loss."""
        torch = self.torch
        self.reset()
        n = X.shape[0]
        total = torch.zeros((), device=self.device)
        for _ in range(epochs):
            total = torch.zeros((), device=self.device)
            order = torch.randperm(n, device=self.device, generator=generator)
            for start in range(0, n, BATCH):
                idx = order[start : start + BATCH]
                xb, yb = X.index_select(0, idx), y.index_select(0, idx)
                self.optimizer.zero_grad(set_to_none=False)
                loss = self.loss_fn(xb, yb)
                loss.backward()
                self.update()
                total += loss.detach() * idx.shape[0]
        return float(total) / n  # float() waits for the device


def fit_chainrule(X, y, epochs: int) -> float:
    """chainrule's fit on the device tensors; returns the last epoch's loss."""
    import sklearn
    from sklearn.exceptions import ConvergenceWarning

    from chainrule import MLPClassifier

    model = MLPClassifier(
        HIDDEN, batch_size=BATCH, max_iter=epochs, learning_rate_init=LEARNING_RATE,
        beta_1=BETAS[0], beta_2=BETAS[1], epsilon=EPSILON, alpha=ALPHA, random_state=SEED,
        dtype="float32", tol=0.0, n_iter_no_change=10**6,
    )  # fmt: skip
    with sklearn.config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    coef = model.coefs_[0]
    if getattr(coef, "device", None) != X.device:
        raise AssertionError(f"coefs_ are on {getattr(coef, 'device', type(coef))}, not {X.device}")
    return float(model.loss_)


def timed(fn, sync) -> tuple[float, float]:
    """``(seconds, result)`` of ``fn()``, the device synchronised before both clock reads."""
    sync()
    started = time.perf_counter()
    result = fn()
    sync()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed fit (2)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (5)")
    parser.add_argument("--rows", type=int, default=60000, help="training rows (60000)")
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu")
    args = parser.parse_args()
    # scikit-learn's array-API dispatch needs this before scipy is first imported (below)
    os.environ.setdefault("SCIPY_ARRAY_API", "1")
    if args.device.startswith("cuda"):
        torch = cuda_or_none()
        if torch is None:
            print("no CUDA device (torch is not installed or torch.cuda.is_available() is False)")
            return 0
        sync = torch.cuda.synchronize
        print(f"device: {torch.cuda.get_device_name(torch.device(args.device))}")
    else:
        import torch

        def sync():
            return None

    import numpy as np
    from speed import large_data

    print(f"torch {torch.__version__}; float32 matmul precision: "
          f"{torch.get_float32_matmul_precision()}")  # fmt: skip
    X_np, y_np = large_data(n=args.rows)
    W, b = initial_weights(X_np, y_np)
    X = torch.asarray(X_np, device=args.device)
    y = torch.asarray(y_np.astype(np.int64), device=args.device)
    generator = torch.Generator(device=args.device)

    contestants = {
        "PyTorch eager": TorchContestant(torch, W, b, args.device, compiled=False),
        "PyTorch torch.compile": TorchContestant(torch, W, b, args.device, compiled=True),
    }
    runs = {
        name: (lambda c=c: c.run(X, y, args.epochs, generator)) for name, c in contestants.items()
    }
    runs = {"chainrule": lambda: fit_chainrule(X, y, args.epochs), **runs}

    failed = {}
    for name, run in runs.items():  # warm up: cuBLAS handles, caching allocator, compilation
        generator.manual_seed(SEED)
        try:
            seconds, _ = timed(run, sync)
        except Exception as error:  # a contestant that fails is reported, the others still run
            failed[name] = error
            print(f"{name}: FAILED in the warm-up run: {type(error).__name__}: {error}")
            traceback.print_exc(limit=-4)
            continue
        print(f"{name}: warm-up run (including any compilation) {seconds:.2f} s")

    times = {name: [] for name in runs if name not in failed}
    losses = {}
    for _ in range(args.rounds):
        for name in times:
            generator.manual_seed(SEED)
            seconds, losses[name] = timed(runs[name], sync)
            times[name].append(seconds / args.epochs)

    case = f"{args.rows} x 784, 784-256-128-10, batch {BATCH}, Adam, float32, {args.device}"
    print(f"\n### {case}, {args.epochs} epochs per fit, median of {args.rounds} rounds\n")
    print("| contestant | s/epoch | x PyTorch eager | last epoch's loss |")
    print("|---|---:|---:|---:|")
    base = statistics.median(times["PyTorch eager"]) if "PyTorch eager" in times else None
    for name, per_epoch in times.items():
        median = statistics.median(per_epoch)
        ratio = f"{median / base:.2f}" if base else ""
        print(f"| {name} | {median:.4f} | {ratio} | {losses[name]:.4f} |")
    for name, error in failed.items():
        print(f"| {name} | failed: {type(error).__name__} | | |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
