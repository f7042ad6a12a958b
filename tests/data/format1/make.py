"""How the format-1 model files beside this script were made: with chainrule at commit
5f97d91 (the last that wrote format 1), ``python tests/data/format1/make.py``. Kept as a
record; today's chainrule writes format 2, so running it again makes format-2 files.

Each file's expected outputs on ``inputs.npy`` are in ``expected.npz``, so that the tests
check that every format-1 file still loads and predicts exactly as it did.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np


def main() -> None:  # pragma: no cover (a record of how the fixtures were made)
    import chainrule as cr
    from chainrule.estimators import Standardized

    here = Path(__file__).parent
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    y = X @ [1.0, -2.0, 0.5] + 0.1
    inputs = rng.normal(size=(5, 3))
    expected = {}
    net = cr.Network([3, 4, 2], activation={"name": "sigmoid", "beta": 2.0}, random_state=0)
    cr.save(net, here / "network.crm")
    expected["network"] = net.forward(inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        clf = cr.MLPClassifier(hidden_layer_sizes=5, max_iter=20, random_state=0).fit(X, labels)
        clf.save(here / "classifier.crm")
        expected["classifier"] = clf.predict_proba(inputs)
        reg = cr.MLPRegressor(hidden_layer_sizes=(4, 3), max_iter=20, random_state=0).fit(X, y)
        reg.save(here / "regressor.crm")
        expected["regressor"] = reg.predict(inputs)
        std = Standardized.fit(cr.MLPClassifier(hidden_layer_sizes=4, max_iter=20), X, labels)
        std.save(here / "standardized.crm")
        expected["standardized"] = std.predict_proba(inputs)
        ckpt = cr.MLPClassifier(
            hidden_layer_sizes=5,
            solver="adam",
            max_iter=4,
            random_state=0,
            checkpoint=str(here / "checkpoint.crm"),
        ).fit(X, labels)
        expected["checkpoint"] = ckpt.predict_proba(inputs)
    np.save(here / "inputs.npy", inputs)
    np.save(here / "train_X.npy", X)
    np.save(here / "train_labels.npy", labels)
    np.savez(here / "expected.npz", **expected)


if __name__ == "__main__":
    main()
