"""``Standardized``: a fitted model behind feature standardisation (what ``chainrule train``
saves)."""

from __future__ import annotations

import numpy as np

from chainrule.estimators.classifier import MLPClassifier
from chainrule.estimators.regressor import MLPRegressor
from chainrule.persistence import save


class Standardized:
    """A fitted model behind feature standardisation ``x' = (x - mean) / scale``.

    This is what ``chainrule train`` saves, so that ``chainrule predict`` scales new data as
    training did. ``info`` records where the model came from (data set, feature and target
    names). Everything else is the wrapped ``model``'s.
    """

    def __init__(self, model, mean: np.ndarray, scale: np.ndarray, info: dict | None = None):
        self.model = model
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.info = dict(info or {})

    @classmethod
    def fit(cls, model, X, y, info: dict | None = None, **fit_params) -> Standardized:
        """Standardise ``X`` (zero mean, unit variance per column) and fit ``model`` to it."""
        X = np.asarray(X, dtype=float)
        mean, scale = X.mean(axis=0), X.std(axis=0)
        scale[scale == 0] = 1.0  # a constant column stays as it is
        model.fit((X - mean) / scale, y, **fit_params)
        return cls(model, mean, scale, info)

    def transform(self, X) -> np.ndarray:
        """``(X - mean) / scale``, cast to the model's precision."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"X has shape {X.shape}; the model takes {self.mean.shape[0]} features"
            )
        return ((X - self.mean) / self.scale).astype(self.model.network_.dtype, copy=False)

    def predict(self, X) -> np.ndarray:
        return self.model.predict(self.transform(X))

    def predict_proba(self, X) -> np.ndarray:
        return self.model.predict_proba(self.transform(X))

    def score(self, X, y) -> float:
        return self.model.score(self.transform(X), y)

    def save(self, path) -> None:
        """Write the model and its scaling to ``path`` (see :meth:`MLPClassifier.save`)."""
        save(self, path)

    def to_payload(self) -> tuple[dict, dict]:
        inner_meta, inner_arrays = self.model.to_payload()
        arrays = {f"model.{k}": v for k, v in inner_arrays.items()}
        arrays.update({"mean": self.mean, "scale": self.scale})
        meta = {"model_kind": type(self.model).__name__, "model": inner_meta, "info": self.info}
        return meta, arrays

    @classmethod
    def from_payload(cls, meta: dict, arrays: dict) -> Standardized:
        kinds = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}
        if meta["model_kind"] not in kinds:
            raise ValueError(f"unknown wrapped model kind {meta['model_kind']!r}")
        inner = {k.removeprefix("model."): v for k, v in arrays.items() if k.startswith("model.")}
        model = kinds[meta["model_kind"]].from_payload(meta["model"], inner)
        return cls(model, arrays["mean"], arrays["scale"], meta.get("info"))
