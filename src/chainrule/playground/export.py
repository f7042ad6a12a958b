"""Export a session: the trained network as a ``.crm`` model file (:func:`chainrule.save`), and a
short Python script that rebuilds the data and retrains the same architecture with
:class:`chainrule.MLPClassifier` or :class:`chainrule.MLPRegressor`.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from chainrule.network import Network
from chainrule.persistence import save

_SOLVER_ARGS = {
    "sgd": 'solver="sgd", momentum=0.0',
    "momentum": 'solver="sgd", momentum=0.9, nesterovs_momentum=False',
    "nesterov": 'solver="sgd", momentum=0.9, nesterovs_momentum=True',
    "adam": 'solver="adam"',
}


def model_bytes(net: Network) -> bytes:
    """The bytes of the ``.crm`` file :func:`chainrule.save` writes for ``net``."""
    with tempfile.TemporaryDirectory(prefix="chainrule-playground-") as tmp:
        path = os.path.join(tmp, "model.crm")
        save(net, path)
        with open(path, "rb") as f:
            return f.read()


def _activation(spec: dict[str, Any]) -> str:
    if spec["activation"] == "sigmoid" and spec["beta"] != 1.0:
        return f"cr.Sigmoid(beta={spec['beta']!r})"
    return repr(spec["activation"])


def _data_lines(config: dict[str, Any], upload_name: str | None) -> list[str]:
    if config["dataset"] == "upload":
        return [
            "# the uploaded CSV file, scaled and split as the playground did",
            f"data = load_csv({upload_name or 'data.csv'!r}, "
            f"train_ratio={config['train_ratio']!r}, seed={config['data_seed']!r})",
        ]
    return [
        "data = make_dataset(",
        f"    {config['dataset']!r}, n_samples={config['n_samples']!r}, noise={config['noise']!r},",
        f"    train_ratio={config['train_ratio']!r}, seed={config['data_seed']!r},",
        ")",
    ]


def _model_args(config: dict[str, Any], classifier: bool, epochs: int) -> list[str]:
    sizes = tuple(spec["units"] for spec in config["layers"])
    args = [] if classifier else [f"loss={config['cost']!r}"]
    args.append(f"hidden_layer_sizes={sizes!r}")
    if sizes:
        args.append(f"activation=[{', '.join(_activation(s) for s in config['layers'])}]")
    return [
        *args,
        _SOLVER_ARGS[config["solver"]],
        f"learning_rate_init={config['learning_rate']!r}",
        f"batch_size={config['batch_size']!r}",
        f"alpha={config['alpha']!r}",
        f"max_iter={max(epochs, 1)}",
        "tol=0.0",
        f"random_state={config['seed']!r}",
    ]


def script(config: dict[str, Any], task: str, epochs: int, upload_name: str | None = None) -> str:
    """Python source that retrains the session's network for ``epochs`` epochs (at least 1)."""
    classifier = task == "classification"
    estimator = "MLPClassifier" if classifier else "MLPRegressor"
    note = []
    if classifier and config["cost"] != "binary_cross_entropy":
        note = ["# MLPClassifier trains on cross-entropy; the playground used squared error"]
    return "\n".join(
        [
            '"""Retrain the network built in the chainrule playground."""',
            "",
            "import chainrule as cr",
            "from chainrule.playground.data import load_csv, make_dataset, make_features",
            "",
            *_data_lines(config, upload_name),
            f"features = {config['features']!r}",
            "X_train = make_features(data.X_train, features)",
            "X_test = make_features(data.X_test, features)",
            *note,
            f"model = cr.{estimator}(",
            *(f"    {arg}," for arg in _model_args(config, classifier, epochs)),
            ")",
            "model.fit(X_train, data.y_train)",
            'print("test score:", model.score(X_test, data.y_test))',
            'cr.save(model, "playground-model.crm")',
            "",
        ]
    )
