"""Which engine trains: the compiled backend (numba) where it can, else the reference engine.

``CHAINRULE_ENGINE=reference|numba`` or :func:`use_engine` choose one. numba is a core
dependency; where it cannot be imported, chainrule trains on the reference engine and says so
once (a :class:`EngineFallbackWarning`).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from types import ModuleType

ENGINES = ("reference", "numba")

_override: list[str] = []
_compiled: dict[str, ModuleType | None] = {}


class EngineFallbackWarning(UserWarning):
    """numba could not be imported: training runs on the (slower) reference engine."""


def compiled_module() -> ModuleType | None:
    """:mod:`chainrule.engine.compiled`, or None (with one warning) where numba cannot be
    imported."""
    if "module" not in _compiled:
        try:
            from chainrule.engine import compiled
        except Exception as error:  # numba missing or broken
            _compiled["module"] = None
            warnings.warn(
                f"numba cannot be imported ({type(error).__name__}: {error}); chainrule trains "
                "on the reference engine, which is slower. Install numba to train on the "
                "compiled backend.",
                EngineFallbackWarning,
                stacklevel=2,
            )
        else:
            _compiled["module"] = compiled
    return _compiled["module"]


def numba_available() -> bool:
    """Whether the compiled backend can be used (numba imports)."""
    return compiled_module() is not None


def engine() -> str:
    """The engine in use: :func:`use_engine`'s, else ``$CHAINRULE_ENGINE``, else ``"numba"``
    (``"reference"`` where numba cannot be imported)."""
    name = _override[-1] if _override else os.environ.get("CHAINRULE_ENGINE", "").strip()
    if name and name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid names are {list(ENGINES)}")
    if name == "reference":
        return name
    return "numba" if numba_available() else "reference"


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
    """Look for numba again at the next :func:`compiled_module` (tests simulate its absence)."""
    _compiled.clear()


def compiled_backend(net, batch_size: int):
    """A :class:`~chainrule.engine.compiled.CompiledBackend` for ``net`` when the engine is
    ``"numba"`` and the network is built-in, else None (train on the reference engine)."""
    if engine() != "numba":
        return None
    return compiled_module().CompiledBackend.for_network(net, batch_size)
