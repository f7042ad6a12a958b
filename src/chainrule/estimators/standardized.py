"""``Standardized``: a fitted model behind feature standardisation (what ``chainrule train``
saves)."""

from __future__ import annotations

import numpy as np
from sklearn import config_context

from chainrule._arrays import device_namespace, move
from chainrule.persistence import save, standardized_fields, standardized_payload


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
    def fit(cls, model, X, y, info: dict | None = None, device=None, **fit_params) -> Standardized:
        """Standardise ``X`` (zero mean, unit variance per column) and fit ``model`` to it;
        ``fit_params`` go to ``model.fit``, a validation set ``X_val`` standardised as ``X``.

        ``device`` (a torch device such as ``"cuda"``) trains there, on torch tensors under
        scikit-learn's ``array_api_dispatch``; the fitted model then comes back to the host.
        """
        X = np.asarray(X, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            mean, scale = X.mean(axis=0), X.std(axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            # features near the float range's end: the sums overflow; scale each column by its
            # largest magnitude first, then scale the moments back
            size = np.abs(X).max(axis=0)
            size[~(size > 0)] = 1.0
            mean, scale = (X / size).mean(axis=0) * size, (X / size).std(axis=0) * size
        scale[scale == 0] = 1.0  # a constant column stays as it is
        standardized = cls(model, mean, scale, info)
        if fit_params.get("X_val") is not None:  # a validation set is scaled as X is
            fit_params["X_val"] = standardized.scaled(np.asarray(fit_params["X_val"], float))
        if device is None:
            model.fit(standardized.scaled(X), y, **fit_params)
            return standardized
        xp, where = device_namespace(device)
        if fit_params.get("X_val") is not None:
            fit_params["X_val"] = move(fit_params["X_val"], xp, where)
        with config_context(array_api_dispatch=True):
            model.fit(move(standardized.scaled(X), xp, where), y, **fit_params)
        model.network_ = model.network_.to(np)  # reports, predictions and the file on the host
        return standardized

    def scaled(self, X: np.ndarray) -> np.ndarray:
        """``(X - mean) / scale``; where ``X - mean`` overflows (features near the float range's
        end), ``(X/2 - mean/2) / scale * 2``, which is exact there."""
        with np.errstate(over="ignore", invalid="ignore"):
            D = X - self.mean
            Z = D / self.scale
            wide = np.isinf(D) & np.isfinite(X)
            if wide.any():
                Z = np.where(wide, (X / 2 - self.mean / 2) / self.scale * 2, Z)
        return Z

    def transform(self, X) -> np.ndarray:
        """``(X - mean) / scale``, cast to the model's precision. A finite value whose result
        leaves that precision's range is a ValueError naming it."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"X has shape {X.shape}; the model takes {self.mean.shape[0]} features"
            )
        dtype = np.dtype(self.model.network_.dtype)
        Z = self.scaled(X)
        with np.errstate(invalid="ignore"):
            past = np.isfinite(X) & ~(np.abs(Z) <= np.finfo(dtype).max)
        if past.any():
            i, j = np.argwhere(past)[0]
            raise ValueError(
                f"X[{i}, {j}] = {X[i, j]:.6g} is standardised to (x - mean) / scale = "
                f"({X[i, j]:.6g} - {self.mean[j]:.6g}) / {self.scale[j]:.6g}, past the {dtype} "
                f"range of this model (about {np.finfo(dtype).max:.2g}): the value is far "
                "outside the data the model was trained on"
            )
        return Z.astype(dtype, copy=False)

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
        return standardized_payload(self.model, self.mean, self.scale, self.info)

    @classmethod
    def from_payload(cls, meta: dict, arrays: dict) -> Standardized:
        return cls(*standardized_fields(meta, arrays))
