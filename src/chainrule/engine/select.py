"""Which engine trains: the compiled backend (numba) where it can, else the reference engine.

``CHAINRULE_ENGINE=reference|numba`` or :func:`use_engine` choose one. Unchosen, a fit starts
on the reference engine and moves to the compiled backend once it has done
:data:`REFERENCE_WORK` multiply-adds (:func:`compiled_backend`): numba takes about 0.4 s to
import and load its cached kernels, more than a short fit takes without it, so a short fit
(a script, a command, a worker process) never loads numba. numba is a core dependency; where it
cannot be imported, chainrule trains on the reference engine and says so once (a
:class:`EngineFallbackWarning`).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from types import ModuleType

from chainrule._arrays import is_numpy

ENGINES = ("reference", "numba")

#: samples x parameters (the multiply-adds of the forward passes) a fit runs on the reference
#: engine before it moves to the compiled backend, unless an engine is chosen: about 30 ms of
#: training on digits (64-32-10), a tenth of what loading numba costs a new process
REFERENCE_WORK = 50_000_000

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


def chosen_engine() -> str | None:
    """The engine :func:`use_engine` or ``$CHAINRULE_ENGINE`` names, or None."""
    name = _override[-1] if _override else os.environ.get("CHAINRULE_ENGINE", "").strip()
    if name and name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; valid names are {list(ENGINES)}")
    return name or None


def engine() -> str:
    """The engine in use: :func:`use_engine`'s, else ``$CHAINRULE_ENGINE``, else ``"numba"``
    (``"reference"`` where numba cannot be imported)."""
    if chosen_engine() == "reference":
        return "reference"
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


def compiled_backend(net, batch_size: int, samples: int = 0):
    """A :class:`~chainrule.engine.compiled.CompiledBackend` for ``net`` when the engine is
    ``"numba"`` and the network is built-in with NumPy weights, else None (train on the
    reference engine).

    ``samples``: how many samples the fit will have passed through the network by the end of
    the coming epoch. Unless an engine is chosen, the fit stays on the reference engine while
    ``samples * net.n_params <= REFERENCE_WORK``: the choice depends on the fit alone, not on
    whether numba is loaded yet, so a fit gives the same weights in a new process as in one
    that has trained before."""
    if not is_numpy(net.theta):
        return None  # numba runs NumPy arrays on the CPU; other namespaces take the reference
    name = chosen_engine()
    if name == "reference" or (name is None and samples * net.n_params <= REFERENCE_WORK):
        return None
    if engine() != "numba":
        return None
    return compiled_module().CompiledBackend.for_network(net, batch_size)
