"""Every test can fail: each case plants one bug in a temporary copy of ``src/chainrule`` and
runs the tests that guard that code against it; the case passes when they go red.

Run: ``python benchmarks/mutations.py`` (all cases; ``-k WORD`` runs the cases whose source
file or description contains WORD; ``--list`` lists them). Each case names a source file, a
piece of its text that must occur exactly once, what replaces it (the bug), and the test files
(with an optional ``-k`` expression) that must fail; a case whose text is no longer in the
source is reported as stale, not as caught. The tests run from this checkout's ``tests/``
against the mutated copy (``PYTHONPATH``), in a fresh process per case, so subprocesses that
the tests start see the mutant too. A case in the compiled engine's source (``.pyx``, ``.pxd``)
rebuilds the copy's extension first (``setup.py build_ext``, about a minute) and puts
this checkout's build back after it. Exit status 1 if a mutant survives.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


@dataclass(frozen=True)
class Mutation:
    source: str  # relative to src/chainrule
    old: str
    new: str
    #: pytest arguments: test files, node ids, "-k", expressions; "{src}" is the mutated
    #: package's folder (for its doctests)
    tests: tuple[str, ...]
    why: str  # the bug, in words


M = Mutation
CASES = [
    # -- the rules: activations, costs, optimizers, initial weights --
    M(
        "activations.py",
        "else a * (1 - a)",
        "else a * (1 + a)",
        ("tests/test_activations.py",),
        "sigmoid' = a(1+a)",
    ),
    M(
        "costs.py",
        'return 0.5 * np.einsum("ij,ij->i", r, r)',
        'return np.einsum("ij,ij->i", r, r)',
        ("tests/test_costs.py",),
        "squared error without its 1/2",
    ),
    M(
        "costs.py",
        "return 0.5 * total(r * r, axis=1)",
        "return total(r * r, axis=1)",
        ("tests/test_arrays.py", "-k", "regressor"),
        "squared error without its 1/2 in another array namespace",
    ),
    M(
        "optimizers.py",
        "theta -= self.learning_rate * grad",
        "theta += self.learning_rate * grad",
        ("tests/test_optimizers.py",),
        "gradient descent climbs",
    ),
    M(
        "optimizers.py",
        "m += (1 - b1) * grad",
        "m += (1 - b2) * grad",
        ("tests/test_optimizers.py",),
        "Adam's first moment with beta2 (one Adam for every array namespace)",
    ),
    M(
        "optimizers.py",
        "theta += mu * v - eta * grad",
        "theta += v",
        ("tests/test_optimizers.py",),
        "Nesterov without the look-ahead",
    ),
    M(
        "initializers.py",
        "np.sqrt(2.0 / n_in)",
        "np.sqrt(1.0 / n_in)",
        ("tests/test_initializers.py", "-k", "initialisation"),
        "He initialisation's variance halved",
    ),
    # -- the numeric oracle and the engine --
    M(
        "differences.py",
        "(order - 2 * j) * h",
        "(order - j) * h",
        ("tests/test_differences.py",),
        "a lopsided stencil",
    ),
    M(
        "engine/reference.py",
        "W[m] * (alpha_2 / n)",
        "W[m] * (alpha_2 / (2 * n))",
        ("tests/test_network.py",),
        "the L2 penalty's gradient halved",
    ),
    M(
        "engine/reference.py",
        "xp.sign(W[m]) * (alpha_1 / n)",
        "xp.sign(W[m]) * (alpha_1 / (2 * n))",
        ("tests/engine/test_reference.py", "tests/test_network.py"),
        "the L1 penalty's subgradient halved",
    ),
    M(
        "engine/reference.py",
        "db[m] = xp.sum(delta[m], axis=0)",
        "db[m] = xp.mean(delta[m], axis=0)",
        ("tests/test_network.py",),
        "dC/db averaged instead of summed",
    ),
    M(
        "engine/select.py",
        'return "reference"',
        'return "compiled"',
        (
            "tests/engine/test_select.py",
            "tests/engine/test_compiled.py",
            "-k",
            "engine_selection or falls_back",
        ),
        "the fallback claims the compiled engine",
    ),
    M(
        "training/schedules.py",
        "grad *= max_norm / norm",
        "grad *= 2 * max_norm / norm",
        ("{src}/training/schedules.py", "tests/engine/test_compiled.py", "-k", "clip"),
        "clipped to twice the norm asked for",
    ),
    M(
        "training/schedules.py",
        "improved_by_tol = sign * (value - self.best) > self.tol",
        "improved_by_tol = sign * (value - self.best) > -self.tol",
        (
            "tests/estimators/test_base.py",
            "-k",
            "adaptive_learning_rate or early_stopping_restores",
        ),
        "every epoch counts as an improvement",
    ),
    M(
        "training/schedules.py",
        "(1 + math.cos(math.pi * k_i / T_i)) / 2",
        "(1 + math.cos(math.pi * k_i / T_i)) / 3",
        ("tests/training/test_schedules.py",),
        "the cosine schedule's midpoint wrong",
    ),
    M(
        "engine/reference.py",
        "dC_da = dC_da * masks[m - 1]",
        "dC_da = dC_da",
        ("tests/engine/test_reference.py", "tests/references/test_torch.py"),
        "dropout's mask forgotten on the way back",
    ),
    M(
        "engine/reference.py",
        "np.dtype(dtype).type(1 / (1 - p))",
        "np.dtype(dtype).type(1)",
        ("tests/engine/test_reference.py", "tests/references/test_torch.py"),
        "dropout without its 1 / (1 - p)",
    ),
    M(
        "training/loop.py",
        "record.t += n_samples",
        "record.t += 1",
        ("tests/training/test_loop.py",),
        "t_ counts epochs, not samples",
    ),
    M(
        "training/loop.py",
        "net.theta[...] = epoch_start",
        "pass",
        ("tests/training/test_loop.py",),
        "a blow-up keeps the diverged weights",
    ),
    M(
        "training/batches.py",
        "rng.shuffle(idx)",
        "pass",
        ("tests/sklearn/test_steps.py",),
        "minibatches never shuffled",
    ),
    M(
        "training/lbfgs.py",
        '"gtol": tol',
        '"gtol": 1e3 * tol',
        ("tests/sklearn/test_steps.py", "-k", "lbfgs_stops"),
        "L-BFGS stops early",
    ),
    # -- the estimators --
    M(
        "training/data.py",
        "test_size=fraction,",
        "test_size=fraction / 2,",
        ("tests/sklearn/test_steps.py", "-k", "same_random_state"),
        "a smaller held-out split",
    ),
    M(
        "estimators/weights.py",
        'views = [W.T for W in net.W] if kind == "coefs"',
        'views = [W for W in net.W] if kind == "coefs"',
        ("tests/estimators/test_weights.py", "-k", "fitted_attributes or fitted_weights"),
        "coefs_ in the seed's orientation",
    ),
    M(
        "estimators/classifier.py",
        "self.classes_[np.argmax(on_host, axis=1)]",
        "self.classes_[np.argmin(on_host, axis=1)]",
        ("tests/estimators/test_base.py", "-k", "quality"),
        "predict takes the least likely class",
    ),
    M(
        "training/trainer.py",
        "if criterion > criteria[best]:",
        "if criterion < criteria[best]:",
        ("tests/training/test_trainer.py",),
        "the worst of n_init runs wins",
    ),
    M(
        "_checks.py",
        "        return row, col",
        "        return col, row",
        ("tests/test_checks.py", "-k", "nan"),
        "NaN reported at the wrong row and column",
    ),
    # -- files --
    M(
        "persistence/atomic.py",
        "os.replace(tmp.name, target)",
        "os.replace(tmp.name, target); os.chmod(target, 0o600)",
        ("tests/persistence/test_atomic.py", "-k", "permissions or keeps_the_mode"),
        "a saved file loses the ordinary permissions",
    ),
    M(
        "persistence/tensors.py",
        'if hashlib.sha256(buffer).hexdigest() != doc["arrays"][name]["sha256"]:',
        "if False:",
        ("tests/persistence/test_tensors.py",),
        "array checksums ignored",
    ),
    M(
        "persistence/format.py",
        "MAX_ENTRIES = 4096",
        "MAX_ENTRIES = 10**9",
        ("tests/persistence/test_entries.py", "tests/persistence/test_reader.py"),
        "no cap on the zip's entries",
    ),
    M(
        "engine/reference.py",
        "return a @ W_m.T + b_m  # z^m",
        "return a @ W_m.T - b_m  # z^m",
        ("tests/references/test_torch.py",),
        "z^m = W^m a^(m-1) - b^m, held to PyTorch's forward pass",
    ),
    # -- the compiled engine: each mutant is built, then held to the reference --
    M(
        "engine/native_passes.pxd",
        "Zm[i * n_out + j] += b[j]",
        "Zm[i * n_out + j] -= b[j]",
        ("tests/engine/test_compiled.py", "-k", "minibatch_is_the_reference"),
        "compiled z^m = W^m a^(m-1) - b^m",
    ),
    M(
        "engine/native_passes.pxd",
        "                 r > 0)",
        "                 False)",
        ("tests/engine/test_compiled.py", "-k", "pieces"),
        "compiled dW^m's pieces of rows overwrite each other instead of summing",
    ),
    M(
        "engine/native_updates.pxd",
        "m[i] = m[i] * <floating>b1 + g[i] * c1",
        "m[i] = m[i] * <floating>b2 + g[i] * c1",
        ("tests/engine/test_compiled.py",),
        "compiled Adam's first moment with beta2",
    ),
    M(
        "engine/native_activations.pxd",
        "d = 1 - y * y  # sigma'(z) = 1 - a^2",
        "d = 1 + y * y",
        ("tests/engine/test_compiled.py", "-k", "minibatch_is_the_reference"),
        "compiled tanh' = 1 + a^2",
    ),
    M(
        "engine/native_dropout.pxd",
        "T[u] *= r[bits < keep]",
        "T[u] *= 1",
        ("tests/engine/test_compiled.py", "-k", "dropout"),
        "compiled dropout's mask forgotten on the way back",
    ),
    # -- the calculus toolkit --
    M(
        "calculus/classify.py",
        '("minimum" if r_sign > 0 else "maximum")',
        '("maximum" if r_sign > 0 else "minimum")',
        ("tests/calculus/test_classify.py",),
        "minima taken for maxima",
    ),
    M(
        "calculus/descent.py",
        "elif gnorm < tol:",
        "elif gnorm < 1e3 * tol:",
        ("tests/calculus/test_descent.py",),
        "descent stops far from the minimum",
    ),
    M(
        "calculus/parsing.py",
        "if len(text) > max_length:",
        "if len(text) > 100 * max_length:",
        ("tests/calculus/test_parsing.py", "-k", "length"),
        "no length cap",
    ),
    # -- the command line, data sets, export, playground, scale --
    M(
        "cli/common.py",
        "return st.st_dev, st.st_ino",
        "return None",
        ("tests/cli/test_common.py",),
        "an output may be its own input",
    ),
    M(
        "datasets/csvfiles.py",
        "if all(is_number(h) for h in header) and header not in numbered:",
        "if False:",
        ("tests/datasets/test_csvfiles.py", "-k", "header"),
        "a numeric first row taken as names",
    ),
    M(
        "export/nodes.py",
        '"relu": "Relu"',
        '"relu": "Identity"',
        ("tests/export/test_convert.py", "-k", "relu or activations"),
        "ReLU exported as identity",
    ),
    M(
        "scale/targets.py",
        "return (codes == 1).astype(dtype).reshape(-1, 1)",
        "return (codes == 0).astype(dtype).reshape(-1, 1)",
        ("tests/scale/test_targets.py", "-k", "one_hot"),
        "binary dask targets inverted",
    ),
]


def compiled(case: Mutation) -> bool:
    return case.source.endswith((".pyx", ".pxd"))


def build(scratch: Path) -> None:
    """The copy's extension from its (mutated) source, with this checkout's ``setup.py``."""
    subprocess.run(
        [sys.executable, str(ROOT / "setup.py"), "-q", "build_ext", "--build-lib", "src"],
        cwd=scratch,
        check=True,
        capture_output=True,
    )


def run_case(case: Mutation, scratch: Path) -> tuple[str, float]:
    """``("caught" | "SURVIVED" | "stale", seconds)``."""
    target = scratch / "src" / "chainrule" / case.source
    text = target.read_text()
    if text.count(case.old) != 1:
        return "stale", 0.0
    env = {**os.environ, "PYTHONPATH": f"{scratch / 'src'}{os.pathsep}{ROOT / 'tests'}"}
    package = str(scratch / "src" / "chainrule")
    arguments = [a.replace("{src}", package) for a in case.tests]
    started = time.perf_counter()
    try:
        target.write_text(text.replace(case.old, case.new))
        if compiled(case):
            build(scratch)  # a mutant that does not build stops the run (CalledProcessError)
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        outcome = "caught" if proc.returncode == 1 else f"SURVIVED (pytest exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        outcome = "SURVIVED (timeout)"
    finally:
        target.write_text(text)
        if compiled(case):  # this checkout's build back
            for built in (SRC / "chainrule" / "engine").glob("native*"):
                if built.suffix in (".so", ".pyd"):
                    shutil.copy2(built, target.parent / built.name)
    return outcome, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="run only the cases naming this")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args()
    cases = [c for c in CASES if args.k in c.source or args.k in c.why]
    if args.list:
        for c in cases:
            found = (SRC / "chainrule" / c.source).read_text().count(c.old)
            state = "" if found == 1 else f"  STALE: the text occurs {found} times"
            print(f"{c.source:28s} {c.why}  <- {' '.join(c.tests)}{state}")
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="chainrule-mutants-") as tmp:
        scratch = Path(tmp)
        # the package as built here, compiled extension included
        shutil.copytree(
            SRC / "chainrule",
            scratch / "src" / "chainrule",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        for case in cases:
            outcome, seconds = run_case(case, scratch)
            results.append(outcome)
            print(f"{outcome:10s} {seconds:6.1f} s  {case.source}: {case.why}", flush=True)
    caught = sum(r == "caught" for r in results)
    stale = sum(r == "stale" for r in results)
    print(
        f"\n{caught} of {len(results)} mutants caught, {stale} stale, "
        f"{len(results) - caught - stale} survived"
    )
    return 0 if caught + stale == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
