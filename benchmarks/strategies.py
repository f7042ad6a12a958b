"""scikit-learn's gallery workload "Compare Stochastic learning strategies for MLPClassifier"
(``examples/neural_networks/plot_mlp_training_curves.py``), run by scikit-learn and chainrule.

Run: ``python benchmarks/strategies.py``. The gallery's seven strategies (sgd with a constant or
inverse-scaling rate, each plain, with momentum and with Nesterov's momentum, and adam) on its
four data sets (iris, digits, circles, moons), with its exact parameters: features scaled to
[0, 1] by ``MinMaxScaler``, ``random_state=0``, ``max_iter=15`` on digits and 400 elsewhere,
every other parameter at its default. Prints the training score (accuracy) and the number of
epochs of both libraries, and the difference; a pair whose scores differ by more than 0.05 is
flagged with ``!!``. The exit status is 1 when any pair is flagged.

The gallery's list holds the inverse-scaling rate with Nesterov's momentum before the one with
plain momentum (under the opposite labels); the rows below are named by their parameters.
"""

from __future__ import annotations

import sys
import time
import warnings

from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import MinMaxScaler

from chainrule import MLPClassifier

#: the largest difference of training scores that is not flagged
THRESHOLD = 0.05

#: the gallery's strategies, in its order, named by their parameters
STRATEGIES = {
    "constant": {
        "solver": "sgd",
        "learning_rate": "constant",
        "momentum": 0,
        "learning_rate_init": 0.2,
    },
    "constant + momentum": {
        "solver": "sgd",
        "learning_rate": "constant",
        "momentum": 0.9,
        "nesterovs_momentum": False,
        "learning_rate_init": 0.2,
    },
    "constant + Nesterov": {
        "solver": "sgd",
        "learning_rate": "constant",
        "momentum": 0.9,
        "nesterovs_momentum": True,
        "learning_rate_init": 0.2,
    },
    "invscaling": {
        "solver": "sgd",
        "learning_rate": "invscaling",
        "momentum": 0,
        "learning_rate_init": 0.2,
    },
    "invscaling + Nesterov": {
        "solver": "sgd",
        "learning_rate": "invscaling",
        "momentum": 0.9,
        "nesterovs_momentum": True,
        "learning_rate_init": 0.2,
    },
    "invscaling + momentum": {
        "solver": "sgd",
        "learning_rate": "invscaling",
        "momentum": 0.9,
        "nesterovs_momentum": False,
        "learning_rate_init": 0.2,
    },
    "adam": {"solver": "adam", "learning_rate_init": 0.01},
}


def data_sets() -> dict:
    """The gallery's four data sets, features scaled to [0, 1] as it does."""
    raw = {
        "iris": datasets.load_iris(return_X_y=True),
        "digits": datasets.load_digits(return_X_y=True),
        "circles": datasets.make_circles(noise=0.2, factor=0.5, random_state=1),
        "moons": datasets.make_moons(noise=0.3, random_state=0),
    }
    return {name: (MinMaxScaler().fit_transform(X), y) for name, (X, y) in raw.items()}


def train(cls, X, y, max_iter: int, params: dict) -> tuple[float, int]:
    """The training score and the number of epochs of one fit, as the gallery makes it."""
    model = cls(random_state=0, max_iter=max_iter, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the gallery ignores them too
        model.fit(X, y)
    return float(model.score(X, y)), int(model.n_iter_)


def main() -> int:
    header = (
        f"{'data set':<9}{'strategy':<24}{'scikit-learn':>13}{'chainrule':>11}"
        f"{'difference':>12}{'epochs (sk/cr)':>16}"
    )
    print(header)
    flagged = 0
    start = time.perf_counter()
    for name, (X, y) in data_sets().items():
        max_iter = 15 if name == "digits" else 400  # the gallery: digits converges quickly
        for label, params in STRATEGIES.items():
            sk_score, sk_epochs = train(SkMLPClassifier, X, y, max_iter, params)
            cr_score, cr_epochs = train(MLPClassifier, X, y, max_iter, params)
            diff = cr_score - sk_score
            flag = "  !!" if abs(diff) > THRESHOLD else ""
            flagged += bool(flag)
            print(
                f"{name:<9}{label:<24}{sk_score:>13.3f}{cr_score:>11.3f}{diff:>+12.3f}"
                f"{f'{sk_epochs}/{cr_epochs}':>16}{flag}"
            )
    total = len(STRATEGIES) * 4
    print(
        f"\n{flagged} of {total} pairs differ by more than {THRESHOLD} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
