"""Which engine trains: the compiled engine where it can, else the reference engine.

``CHAINRULE_ENGINE=reference|compiled`` or :func:`use_engine` choose one. Unchosen, every fit
of a built-in network on NumPy arrays runs on the compiled engine from its first step
(:func:`backend_for`), whatever its size: the extension :mod:`chainrule.engine.native` is
built when the package installs and imports in milliseconds. Where it cannot be imported,
chainrule trains on the reference engine and says so once (a :class:`EngineFallbackWarning`).
:func:`backend_for` gives the training loop the chosen engine's backend.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from types import ModuleType

import numpy as np

from chainrule._arrays import is_numpy
from chainrule.engine.backend import Backend, ReferenceBackend

ENGINES = ("reference", "compiled")

_override: list[str] = []
_compiled: dict[str, ModuleType | None] = {}


class EngineFallbackWarning(UserWarning):
    """The compiled engine could not be imported: training runs on the reference engine."""


def compiled_module() -> ModuleType | None:
    """:mod:`chainrule.engine.compiled`, or None (with one warning) where the extension cannot
    be imported."""
    if "module" not in _compiled:
        try:
            from chainrule.engine import compiled
        except ImportError as error:  # not built, or built for another Python
            _compiled["module"] = None
            warnings.warn(
                f"chainrule's compiled engine cannot be imported ({error}); chainrule trains "
                "on the reference engine, which is slower. Reinstall chainrule "
                "(`pip install -e .` in a clone) to build it.",
                EngineFallbackWarning,
                stacklevel=2,
            )
        else:
            _compiled["module"] = compiled
    return _compiled["module"]


def compiled_available() -> bool:
    """Whether the compiled engine can be used (its extension imports)."""
    return compiled_module() is not None


def chosen_engine() -> str | None:
    """The engine :func:`use_engine` or ``$CHAINRULE_ENGINE`` names, or None."""
    name = _override[-1] if _override else os.environ.get("CHAINRULE_ENGINE", "").strip()
    if name and name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid names are {list(ENGINES)}")
    return name or None


def engine() -> str:
    """The engine in use: :func:`use_engine`'s, else ``$CHAINRULE_ENGINE``, else
    ``"compiled"`` (``"reference"`` where the extension cannot be imported)."""
    if chosen_engine() == "reference":
        return "reference"
    return "compiled" if compiled_available() else "reference"


@contextlib.contextmanager
def use_engine(name: str) -> Iterator[None]:
    """Train with engine ``name`` inside the ``with`` block."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid names are {list(ENGINES)}")
    _override.append(name)
    try:
        yield
    finally:
        _override.pop()


def forget_compiled() -> None:
    """Look for the extension again at the next :func:`compiled_module` (tests simulate its
    absence)."""
    _compiled.clear()


def backend_for(net, batch_size: int) -> Backend:
    """The :class:`~chainrule.engine.backend.Backend` that trains ``net`` in minibatches of up
    to ``batch_size`` rows: the compiled engine's when the engine is ``"compiled"`` and the
    network is built-in with NumPy weights, else the reference engine's."""
    if is_numpy(net.theta) and engine() == "compiled":
        compiled = compiled_module().CompiledBackend.for_network(net, batch_size)
        if compiled is not None:
            return compiled
    # the extension runs built-in networks on NumPy arrays; the rest, the reference engine
    return ReferenceBackend(net, batch_size)


def compiled_predictor(net, a):
    """``predict(a, logits)`` of the compiled engine (:func:`chainrule.engine.compiled.predictor`)
    for the rows ``a`` of a built-in network: a dense C-contiguous NumPy array of its dtype;
    else None (predict on the reference engine)."""
    if type(a) is not np.ndarray or a.dtype != net.dtype or not a.flags.c_contiguous:
        return None
    if not is_numpy(net.theta) or engine() != "compiled":
        return None
    return compiled_module().predictor(net)
