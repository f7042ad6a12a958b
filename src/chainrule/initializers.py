"""Initial weights ``W^m``, ``b^m`` of a layer with ``N^(m-1)`` inputs and ``N^m`` units.

==================  =========================================================  ============
name                ``W_ij``                                                   ``b_i``
==================  =========================================================  ============
``sklearn``         ``U(-r, r)``, ``r = sqrt(f / (N^(m-1) + N^m))``, ``f = 6``   ``U(-r, r)``
                    (``f = 2`` for logistic hidden layers): scikit-learn's
``glorot_uniform``  ``U(-r, r)``, ``r = sqrt(6 / (N^(m-1) + N^m))``                0
``he_normal``       ``N(0, 2 / N^(m-1))``                                         0
``normal``          ``N(0, 1)`` (the seed's ``np.random.randn``)                  ``N(0, 1)``
==================  =========================================================  ============

``rng`` may be a ``numpy.random.RandomState`` (scikit-learn's) or a ``Generator``; the
``sklearn`` scheme draws ``W^m`` transposed, then ``b^m``, layer by layer, as scikit-learn
does, so the same ``RandomState`` gives scikit-learn's initial weights.
"""

from __future__ import annotations

import numpy as np

INITS = ("sklearn", "glorot_uniform", "he_normal", "normal")


def check_init(init: str | None) -> None:
    if init is not None and init not in INITS:
        raise ValueError(f"unknown init {init!r}; valid names are {list(INITS)}")


def draw_layer(
    scheme: str, n_out: int, n_in: int, rng, factor: float = 6.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(W^m, b^m)`` drawn by ``scheme``, as float64 arrays of shapes ``(N^m, N^(m-1))``,
    ``(N^m,)``; ``factor`` is the ``sklearn`` scheme's ``f``."""
    if scheme == "sklearn":
        bound = np.sqrt(factor / (n_in + n_out))
        W = rng.uniform(-bound, bound, size=(n_in, n_out)).T  # scikit-learn's coefs_ order
        return W, rng.uniform(-bound, bound, size=n_out)
    if scheme == "glorot_uniform":
        bound = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-bound, bound, size=(n_out, n_in)), np.zeros(n_out)
    if scheme == "he_normal":
        return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in)), np.zeros(n_out)
    if scheme == "normal":
        return rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
    raise ValueError(f"unknown init {scheme!r}; valid names are {list(INITS)}")
