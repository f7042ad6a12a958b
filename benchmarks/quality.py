"""Cross-validated quality of chainrule beside scikit-learn, with the same hyper-parameters.

Run: ``python benchmarks/quality.py``. Prints, for each data set, the mean 5-fold score of
scikit-learn's MLP and of chainrule's (accuracy for classification, R^2 for regression), with
the inputs standardised inside each fold, and the difference. chainrule should be no worse than
scikit-learn by more than 0.01 on any of them.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
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


def main() -> None:
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
