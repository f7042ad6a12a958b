"""Cross-validated quality of chainrule beside scikit-learn, with the same hyper-parameters.

Run: ``python benchmarks/quality.py``. Prints, for each data set, the mean 5-fold score of
scikit-learn's MLP and of chainrule's (accuracy for classification, R^2 for regression), with
the inputs standardised inside each fold, and the difference. chainrule should be no worse than
scikit-learn by more than 0.01 on any of them.

``python benchmarks/quality.py --regularization`` shows what chainrule's additions do beyond
scikit-learn's L2 ``alpha``: on one data set, a small grid of each regulariser (:data:`GRIDS`,
the same folds for every setting), each setting's 5-fold accuracy as mean +- std over the
folds, the best of each family, and the best family's per-fold gain over the best plain
(``alpha``-only) setting, mean +- std. The grids are picked in advance and equally small; the
best of each is chosen on the same folds it is scored on, equally optimistic for every family.

``python benchmarks/quality.py --dropout`` does the same for dropout (and weight decay) on
digits, where the plain grid spans ``alpha`` and the hidden size (:data:`DROPOUT_GRIDS`).

``python benchmarks/quality.py --small-data`` (and ``--small-data --second``) tests the same
question where regularisers should matter most, data scarce beside the model. The protocol was
written here before it was first run, and is reported whatever it gives (issue 26):

* digits (1797 rows, 64 pixels, 10 classes), 10 stratified shuffle splits (scikit-learn's
  ``StratifiedShuffleSplit(10, train_size=0.1, random_state=0)``): 179 training rows, the other
  1618 the test set; inputs standardised on the training share;
* adam at its defaults, ``batch_size=32``, a fixed budget of 200 epochs (~1200 steps:
  ``n_iter_no_change=200`` so that it never stops early; ``early_stopping`` off),
  ``random_state=0`` in every fit: the same splits and initial weights for every setting;
* hidden sizes (256,) and (512,) in every family; plain: ``alpha`` in 1e-4, 1e-3, 1e-2, 0.1,
  1, 10 (12 settings); dropout: 0.2, 0.5 at the default ``alpha`` (4); decoupled weight decay:
  ``weight_decay`` in 1e-3, 1e-2, 0.1, 1, 10 at the default ``alpha`` (10) (:func:`small_grids`);
* each setting's test accuracy, mean +- std over the splits; the best setting of each family
  (best mean, picked on the splits it is scored on: equally optimistic for each family, and
  the plain family, with the most settings, gains most from it); each best's per-split gain
  over the best plain setting, its mean and standard error (std with ddof=1 over sqrt(10)).
  A family **improves** on the plain grid only if its gain's mean exceeds twice its standard
  error.

``--second``: one second protocol, to be run only if the first shows no improvement, and
reported beside it: the same, with two hidden layers (256, 256) instead of the two sizes (one
architecture, to keep the runtime), because dropout was shown to help most in deeper networks
(Srivastava et al., 2014).

``python benchmarks/quality.py --nested``: a fourth protocol, each regulariser as a practitioner
uses it: a tunable option added **on top of** tuned L2, chosen by inner cross-validation,
scored on data the choice never saw. Written here and committed before it was first run, and
reported whatever it gives (issue 26). Why: the three protocols above chose each family's best
on the splits it was scored on (optimistic, most for the family with the most settings) and
tried dropout and weight decay only at the default ``alpha``, whereas they are used together
with L2 (Srivastava et al., 2014, combine dropout with weight penalties). Nested selection
removes the optimism; a family whose grid contains the plain one (rate 0 or decay 0 included)
can only lose to it by selection noise.

* digits, 30 outer splits ``StratifiedShuffleSplit(30, train_size=0.1, random_state=1)`` (179
  training rows, the other 1618 the test set; a new seed, not the protocols' 0 above); inputs
  standardised on the training share (a pipeline with ``StandardScaler``);
* chainrule's ``MLPClassifier``, ``hidden_layer_sizes=(512,)``, adam at its defaults,
  ``batch_size=32``, ``max_iter=200``, ``n_iter_no_change=200`` (never stops early),
  ``early_stopping`` off, ``random_state=0`` in every fit;
* families (:data:`NESTED_GRIDS`): plain: ``alpha`` in 1e-4, 1e-3, 1e-2, 0.1, 1, 10 (6
  settings); L2 + dropout: the same alphas x ``dropout`` in 0, 0.2, 0.5 (18); L2 + weight
  decay: the same alphas x ``weight_decay`` in 0, 1e-2, 0.1, 1 (24);
* in each outer split, each family's setting is chosen by the mean accuracy of 3-fold
  ``StratifiedKFold(shuffle=True, random_state=0)`` on the 179 training rows
  (``GridSearchCV``, ``refit=True``), refit on the whole training share and scored on the
  1618 test rows;
* printed: per family, the outer test accuracy mean +- std over the 30 splits and how often
  each setting was chosen; each family's per-split gain over the plain family's: mean, std,
  standard error std(ddof=1) / sqrt(30); a family **improves** only if the gain's mean exceeds
  twice its standard error; the wall time.

Cost, estimated before the run: one inner fit (119 rows) takes ~0.22 s on this VM at load ~1,
and a split needs 147 fits (3 x (6 + 18 + 24) inner fits and 3 refits), so the 30 splits take
~17 min on one core at load ~1 and beyond 25 min under this shared machine's usual load of 3
or more; ``GridSearchCV`` therefore runs with ``n_jobs=2`` (which changes no result: every fit
is determined by ``random_state=0``).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections import Counter

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    StratifiedShuffleSplit,
    cross_val_score,
)
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule import MLPClassifier, MLPRegressor

#: data set -> (loader, is_classification, hyper-parameters shared by both libraries)
DATASETS = {
    "digits": (datasets.load_digits, True, {"hidden_layer_sizes": (64,), "max_iter": 300}),
    "iris": (datasets.load_iris, True, {"hidden_layer_sizes": (16,), "max_iter": 1000}),
    "wine": (datasets.load_wine, True, {"hidden_layer_sizes": (32,), "max_iter": 500}),
    "breast_cancer": (
        datasets.load_breast_cancer,
        True,
        {"hidden_layer_sizes": (32,), "max_iter": 500},
    ),
    "diabetes": (
        datasets.load_diabetes,
        False,
        {"hidden_layer_sizes": (16,), "max_iter": 2000, "learning_rate_init": 0.01, "alpha": 1.0},
    ),
}


def cv_scores(name: str, seed: int = 0) -> dict[str, float]:
    """Mean 5-fold scores of both libraries on one data set."""
    loader, classification, params = DATASETS[name]
    X, y = loader(return_X_y=True)
    if classification:
        cv = StratifiedKFold(5, shuffle=True, random_state=seed)
        models = {"scikit-learn": SkMLPClassifier, "chainrule": MLPClassifier}
    else:
        cv = KFold(5, shuffle=True, random_state=seed)
        models = {"scikit-learn": SkMLPRegressor, "chainrule": MLPRegressor}
    out = {}
    for label, cls in models.items():
        model = make_pipeline(StandardScaler(), cls(random_state=seed, **params))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            out[label] = float(np.mean(cross_val_score(model, X, y, cv=cv)))
    return out


# -- regularisation beyond scikit-learn's: weight decay, L1, dropout ------------------------------

#: a data set where only a few of many features matter: 6 informative features of 100, the rest
#: noise (scikit-learn's make_classification), 300 rows. Penalties that shrink the weights of
#: the noise features are what should help here
REGULARIZED = {"hidden_layer_sizes": (32,), "max_iter": 200}
#: the families and their settings: the plain one is scikit-learn's L2 alone; each other adds
#: one of chainrule's regularisers
GRIDS = {
    "plain (L2 alpha)": [{"alpha": a} for a in (1e-4, 0.1, 1.0, 10.0, 100.0)],
    "weight decay": [{"weight_decay": w} for w in (0.01, 0.1, 0.3, 1.0, 3.0)],
    "L1 (l1_ratio=1)": [{"alpha": a, "l1_ratio": 1.0} for a in (0.1, 1.0, 3.0, 10.0, 30.0)],
}

#: dropout's family (``--dropout``), on digits (1797 rows, 64 pixels, 10 classes): dropout
#: regularises wide hidden layers, so the plain grid spans both ``alpha`` and the hidden size,
#: and dropout's spans its rate and the same sizes (at the default ``alpha=1e-4``)
DROPOUT = {"max_iter": 200}
SIZES = [(64,), (256,)]
DROPOUT_GRIDS = {
    "plain (L2 alpha)": [
        {"alpha": a, "hidden_layer_sizes": h} for h in SIZES for a in (1e-4, 0.1, 1.0, 10.0)
    ],
    "dropout": [{"dropout": p, "hidden_layer_sizes": h} for h in SIZES for p in (0.2, 0.5)],
    "weight decay": [
        {"weight_decay": w, "hidden_layer_sizes": h} for h in SIZES for w in (0.1, 1.0)
    ],
}


#: the small-data protocol's shared parameters (``--small-data``, see the module's docstring)
SMALL_DATA = {"batch_size": 32, "max_iter": 200, "n_iter_no_change": 200}
#: the plain grid of the small-data and nested protocols: L2 ``alpha``, a decade apart
ALPHAS = (1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)
#: the nested protocol's families (``--nested``): each regulariser tuned on top of L2 ``alpha``,
#: its grid containing the plain one (rate 0, decay 0)
NESTED_GRIDS = {
    "plain (L2 alpha)": {"alpha": ALPHAS},
    "L2 + dropout": {"alpha": ALPHAS, "dropout": (0.0, 0.2, 0.5)},
    "L2 + weight decay": {"alpha": ALPHAS, "weight_decay": (0.0, 1e-2, 0.1, 1.0)},
}


def small_grids(sizes: list[tuple[int, ...]]) -> dict[str, list[dict]]:
    """The small-data protocol's families, each over the same hidden sizes."""
    return {
        "plain (L2 alpha)": [{"alpha": a, "hidden_layer_sizes": h} for h in sizes for a in ALPHAS],
        "dropout": [{"dropout": p, "hidden_layer_sizes": h} for h in sizes for p in (0.2, 0.5)],
        "weight decay": [
            {"weight_decay": w, "hidden_layer_sizes": h}
            for h in sizes
            for w in (1e-3, 1e-2, 0.1, 1.0, 10.0)
        ],
    }


def regularization_data():
    return datasets.make_classification(
        n_samples=300, n_features=100, n_informative=6, n_redundant=0, random_state=0
    )


def regularization_scores(
    X, y, shared: dict, grids: dict, seed: int = 0, cv=None
) -> dict[str, list[tuple[dict, np.ndarray]]]:
    """Each family's settings with their scores on the same splits (5 stratified folds unless
    ``cv`` is given), every fit from ``random_state=seed``."""
    cv = StratifiedKFold(5, shuffle=True, random_state=seed) if cv is None else cv
    out = {}
    for family, settings in grids.items():
        out[family] = []
        for params in settings:
            model = make_pipeline(
                StandardScaler(), MLPClassifier(random_state=seed, **shared, **params)
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                out[family].append((params, cross_val_score(model, X, y, cv=cv)))
    return out


def regularization_report(mode: str = "regularization") -> None:
    """Print each family's settings, the best of each and its paired gain over the best plain
    setting: mean +- std, standard error ``std(ddof=1) / sqrt(splits)``, and whether the mean
    exceeds twice it."""
    start = time.perf_counter()
    digits = datasets.load_digits(return_X_y=True)
    if mode == "dropout":
        scores = regularization_scores(*digits, DROPOUT, DROPOUT_GRIDS)
    elif mode == "regularization":
        scores = regularization_scores(*regularization_data(), REGULARIZED, GRIDS)
    else:
        sizes = [(256, 256)] if mode == "second" else [(256,), (512,)]
        cv = StratifiedShuffleSplit(10, train_size=0.1, random_state=0)
        scores = regularization_scores(*digits, SMALL_DATA, small_grids(sizes), cv=cv)
    best = {}
    for family, rows in scores.items():
        print(family)
        for params, s in rows:
            print(f"  {params!s:<58} {s.mean():.4f} +- {s.std():.4f}  folds {np.round(s, 4)}")
        best[family] = max(rows, key=lambda row: row[1].mean())
    plain = best["plain (L2 alpha)"]
    print("best of each family, and its gain over the best plain setting, fold by fold:")
    for family, (params, s) in best.items():
        print(
            f"  {family:<18} {params!s:<58} {s.mean():.4f} +- {s.std():.4f}   "
            f"{paired_gain(s, plain[1])}"
        )
    print(f"({time.perf_counter() - start:.0f} s)")


def paired_gain(s: np.ndarray, base: np.ndarray) -> str:
    """The per-split gain ``s - base``: mean +- std, its standard error
    ``std(ddof=1) / sqrt(splits)``, the verdict (improves only if the mean exceeds twice the
    standard error) and the gain split by split."""
    gain = s - base
    se = gain.std(ddof=1) / np.sqrt(len(gain))
    verdict = "improves" if gain.mean() > 2 * se else "no improvement"
    return (
        f"gain {gain.mean():+.4f} +- {gain.std():.4f} (se {se:.4f}: {verdict})  "
        f"folds {' '.join(f'{g:+.4f}' for g in gain)}"
    )


def nested_scores(
    X, y, shared: dict, grids: dict, outer, n_jobs: int = 2
) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Each family's test accuracy on every outer split and the setting it chose there: the
    setting with the best mean accuracy of 3 stratified inner folds of the training share, refit
    on the whole training share (``GridSearchCV``), every fit from ``random_state=0``."""
    inner = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = {family: [] for family in grids}
    chosen = {family: [] for family in grids}
    for train, test in outer.split(X, y):
        for family, grid in grids.items():
            model = make_pipeline(StandardScaler(), MLPClassifier(random_state=0, **shared))
            param_grid = {f"mlpclassifier__{name}": values for name, values in grid.items()}
            search = GridSearchCV(model, param_grid, cv=inner, n_jobs=n_jobs, error_score="raise")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                search.fit(X[train], y[train])
            scores[family].append(search.score(X[test], y[test]))
            setting = search.best_params_.items()
            chosen[family].append(", ".join(f"{k.split('__')[1]}={v}" for k, v in setting))
    return {family: (np.array(scores[family]), chosen[family]) for family in grids}


def nested_report() -> None:
    """The nested protocol (``--nested``, see the module's docstring): each family's outer test
    accuracy, how often each setting was chosen, and its per-split gain over the plain family."""
    start = time.perf_counter()
    X, y = datasets.load_digits(return_X_y=True)
    outer = StratifiedShuffleSplit(30, train_size=0.1, random_state=1)
    shared = {**SMALL_DATA, "hidden_layer_sizes": (512,)}
    scores = nested_scores(X, y, shared, NESTED_GRIDS, outer)
    plain = scores["plain (L2 alpha)"][0]
    for family, (s, chosen) in scores.items():
        print(f"{family}: outer test accuracy {s.mean():.4f} +- {s.std():.4f} over {len(s)} splits")
        for setting, count in Counter(chosen).most_common():
            print(f"    chosen {count:>2} x  {setting}")
        if s is not plain:
            print(f"  over plain: {paired_gain(s, plain)}")
    print(f"({time.perf_counter() - start:.0f} s)")


def main() -> None:
    args = sys.argv[1:]
    if "--nested" in args:
        nested_report()
        return
    if "--small-data" in args:
        regularization_report("second" if "--second" in args else "small-data")
        return
    if "--regularization" in args or "--dropout" in args:
        regularization_report("dropout" if "--dropout" in args else "regularization")
        return
    print(f"{'data set':<15}{'scikit-learn':>14}{'chainrule':>12}{'difference':>12}{'seconds':>9}")
    for name in DATASETS:
        start = time.perf_counter()
        s = cv_scores(name)
        diff = s["chainrule"] - s["scikit-learn"]
        print(
            f"{name:<15}{s['scikit-learn']:>14.4f}{s['chainrule']:>12.4f}{diff:>+12.4f}"
            f"{time.perf_counter() - start:>9.1f}"
        )


if __name__ == "__main__":
    main()
