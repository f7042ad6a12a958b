"""Early stopping's held-out samples: the split (scikit-learn's, drawn from the same random
stream) and the score watched on them."""

from __future__ import annotations

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

from chainrule._arrays import namespace, take_rows, to_numpy


class EarlyStopping:
    """The validation part of a fit (a mixin of :class:`~chainrule.estimators.base.BaseMLP`)."""

    def _validation_split(self, Y: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """``(train, validation)`` row indices, as scikit-learn splits them: stratified for
        one-column classifier targets only (binary; multilabel and multiclass are not), with
        ``rng`` (a ``RandomState``; a ``Generator`` gives a seed)."""
        stratify = to_numpy(Y).astype(bool) if is_classifier(self) and Y.shape[1] == 1 else None
        if not isinstance(rng, np.random.RandomState):
            rng = int(rng.integers(np.iinfo(np.int32).max))
        train, val = train_test_split(
            np.arange(Y.shape[0]),
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=stratify,
        )
        if val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                f"of your dataset (validation_fraction={self.validation_fraction} leaves "
                f"{val.shape[0]} sample(s); early stopping needs at least 2)."
            )
        return train, val

    @staticmethod
    def _split(X_given, X, Y, sw, y, indices):
        """The training part ``(X, Y, sw, y)`` and the validation part ``(X, Y, sw, y,
        X_given)`` (``X_given``: the rows of the caller's ``X``, column names kept)."""
        train, val = indices
        data = tuple(take_rows(a, train) for a in (X, Y, sw, y))
        held_out = tuple(take_rows(a, val) for a in (X, Y, sw, y))
        return data, (*held_out, _safe_indexing(X_given, val))

    def _validation_step(self, validation):
        """``() -> (score, loss)`` on the held-out samples, or ``() -> None`` without them."""
        if validation is None:
            return lambda: None
        return lambda: self._validate(validation)

    def _validate(self, validation) -> tuple[float, float]:
        """The score (higher is better) and the loss on the held-out samples; the default
        score (accuracy, R^2, weighted as the samples) is NaN when the outputs are not finite."""
        X_val, Y_val, sw_val, y_val, X_given = validation
        xp = namespace(sw_val)
        w_sum = float(xp.sum(sw_val))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            val_loss = self.network_.batch_cost(X_val, Y_val, sw_val / w_sum, w_sum)
            if self.scoring == "loss":
                return -val_loss, val_loss
            if self.scoring is None:
                out = self.network_.forward(X_val, validate=False)
                if not bool(xp.all(xp.isfinite(out))):
                    return float("nan"), val_loss
                return float(self._score_output(out, y_val, sw_val)), val_loss
        return float(check_scoring(self, self.scoring)(self, X_given, y_val)), val_loss

    def _score_output(self, out: np.ndarray, y, sample_weight) -> float:
        """The default score of the network's outputs ``out`` against ``y``."""
        raise NotImplementedError
