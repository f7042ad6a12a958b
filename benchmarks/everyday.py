"""Everyday fits, as a scikit-learn user runs them: chainrule beside scikit-learn (and PyTorch).

Run: ``python benchmarks/everyday.py`` (``--rounds N``, default 3; about 2 minutes a round on
an idle 2-core machine). Each (case, library) runs as a whole new process that imports
scikit-learn, makes the data and fits twice on the same parameters, with 1 BLAS thread
(``threadpoolctl`` and the ``*_NUM_THREADS`` variables). The processes of a round run in
alternation (chainrule, scikit-learn, PyTorch, for each case), and each figure is the median
over rounds of that round's ratio, so both sides see the same drift of a shared machine:

* whole process: the child's wall time, import and data included, chainrule / scikit-learn;
* second fit: the second fit in that process (everything imported and warm) / scikit-learn's;
* first - second: how much longer chainrule's first fit in a process takes than its second,
  in wall time and (less exposed to a shared machine's steal) in process CPU time; and the same
  for scikit-learn, whose first fit pays the costs both share (its ``validate_data`` looks up
  narwhals' plugins among every installed package's entry points once a process);
* peak memory: the child's peak resident memory (``VmHWM``), chainrule's minus scikit-learn's.

Cases (scikit-learn's ``MLPClassifier``/``MLPRegressor`` with the same parameters; chainrule's
drop-in estimators train float64 as scikit-learn does):

* digits, default parameters (1797 x 64 scaled to [0, 1]; hidden (100,), adam, 200 epochs);
* a grid of six small digits fits: hidden (32,) and (64,) x alpha 1e-4, 1e-3, 1e-2, 30 epochs;
* 30,000 x 40 tabular (``make_classification``), adam, hidden (128, 64), 20 epochs; PyTorch:
  the same network, Adam and minibatches of 200 in a plain loop (float32, its own init);
* 5,000 x 20 regression (``make_regression`` + a sine), lbfgs, hidden (100,), 100 iterations.

Issue 22's targets: second fit at most 0.45x scikit-learn's, whole process at most 0.85x, peak
memory at most 30 MB above, first fit within 20 ms of the second.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

CASES = ("digits default", "digits grid of 6", "tabular 30000x40 adam", "regression lbfgs")

CHILD = """
import time
start = time.perf_counter()
import json, warnings
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
{imports}
warnings.simplefilter("ignore", ConvergenceWarning)
case = {case!r}
if case.startswith("digits"):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
elif case.startswith("tabular"):
    X, y = make_classification(30000, 40, n_informative=20, n_classes=4, random_state=0)
else:
    X, y = make_regression(5000, 20, noise=0.1, random_state=0)
    y = y / y.std() + np.sin(X[:, 0])


def fit():
    if case == "digits default":
        Classifier(random_state=0).fit(X, y)
    elif case == "digits grid of 6":
        for hidden in [(32,), (64,)]:
            for alpha in [1e-4, 1e-3, 1e-2]:
                Classifier(hidden, alpha=alpha, max_iter=30, random_state=0).fit(X, y)
    elif case.startswith("tabular"):
        Classifier((128, 64), max_iter=20, random_state=0).fit(X, y)
    else:
        Regressor(solver="lbfgs", max_iter=100, random_state=0).fit(X, y)


times, cpu = [], []
with threadpool_limits(1):
    for _ in range(2):
        t, c = time.perf_counter(), time.process_time()
        fit()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
print(json.dumps({{"first": times[0], "second": times[1], "cpu": cpu, "peak": peak,
                  "process": time.perf_counter() - start}}))
"""

#: a plain PyTorch loop with the estimators' interface, for the tabular case
TORCH_LOOP = """
from itertools import pairwise
import numpy as np
import torch
torch.set_num_threads(1)


class Classifier:
    def __init__(self, hidden, max_iter, random_state, batch_size=200):
        self.hidden, self.epochs, self.seed, self.batch = hidden, max_iter, random_state, batch_size

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        sizes = [X.shape[1], *self.hidden, int(y.max()) + 1]
        linear = [torch.nn.Linear(n_in, n_out) for n_in, n_out in pairwise(sizes)]
        relus = [torch.nn.ReLU() for _ in self.hidden]  # after each hidden layer
        model = torch.nn.Sequential(*[m for pair in zip(linear, relus) for m in pair], linear[-1])
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        loss_fn = torch.nn.CrossEntropyLoss()
        Xt = torch.from_numpy(X.astype(np.float32))
        yt = torch.from_numpy(y.astype(np.int64))
        for _ in range(self.epochs):
            order = torch.randperm(X.shape[0])
            for start in range(0, X.shape[0], self.batch):
                idx = order[start : start + self.batch]
                opt.zero_grad(set_to_none=True)
                loss_fn(model(Xt[idx]), yt[idx]).backward()
                opt.step()
        return self
"""


IMPORTS = {
    "chainrule": "from chainrule import MLPClassifier as Classifier, MLPRegressor as Regressor",
    "scikit-learn": (
        "from sklearn.neural_network import MLPClassifier as Classifier, MLPRegressor as Regressor"
    ),
    "PyTorch": TORCH_LOOP + "Regressor = None",
}


def run_child(library: str, case: str) -> dict:
    """One whole process: its wall time as the parent sees it, and what it measured."""
    import time

    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    code = CHILD.format(imports=IMPORTS[library], case=case)
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    wall = time.perf_counter() - t
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "wall": wall}


def has_torch() -> bool:
    return (
        subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    args = parser.parse_args()
    runs: dict = {(c, lib): [] for c in args.cases for lib in IMPORTS}
    torch = has_torch()
    for r in range(args.rounds):
        for case in args.cases:
            libraries = ["chainrule", "scikit-learn"]
            if r % 2:  # alternate which goes first
                libraries.reverse()
            if torch and case.startswith("tabular"):
                libraries.append("PyTorch")
            for library in libraries:
                runs[case, library].append(run_child(library, case))
        print(f"round {r + 1} of {args.rounds} done", file=sys.stderr)
    report(runs, args.cases)


def ratio(a: list, b: list, key: str) -> float:
    return float(np.median([x[key] / y[key] for x, y in zip(a, b, strict=True)]))


def first_fit(runs: list) -> str:
    """Median first - second fit in ms, wall time (process CPU time)."""
    wall = np.median([x["first"] - x["second"] for x in runs]) * 1000
    cpu = np.median([x["cpu"][0] - x["cpu"][1] for x in runs]) * 1000
    return f"{wall:+.0f} ({cpu:+.0f})"


def report(runs: dict, cases) -> None:
    print(
        "| everyday fit | whole process, chainrule / scikit-learn | second fit, chainrule / "
        "scikit-learn | chainrule first - second, ms (CPU) | scikit-learn first - second, ms "
        "(CPU) | peak memory, chainrule - scikit-learn (MB) | chainrule second fit (s) | "
        "scikit-learn second fit (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for case in cases:
        ours, theirs = runs[case, "chainrule"], runs[case, "scikit-learn"]
        memory = np.median([x["peak"] - y["peak"] for x, y in zip(ours, theirs, strict=True)])
        print(
            f"| {case} | {ratio(ours, theirs, 'wall'):.2f}x | {ratio(ours, theirs, 'second'):.2f}x"
            f" | {first_fit(ours)} | {first_fit(theirs)} | {memory:+.0f} | "
            f"{np.median([x['second'] for x in ours]):.3f} | "
            f"{np.median([x['second'] for x in theirs]):.3f} |"
        )
    for case in cases:
        torch = runs[case, "PyTorch"]
        if torch:
            ours = runs[case, "chainrule"]
            print(
                f"\n{case}: chainrule / a plain PyTorch loop (float32): whole process "
                f"{ratio(ours, torch, 'wall'):.2f}x, second fit {ratio(ours, torch, 'second'):.2f}x"
            )


if __name__ == "__main__":
    main()
