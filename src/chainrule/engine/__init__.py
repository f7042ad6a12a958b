"""The engine: the derivation's equations (:mod:`~chainrule.engine.reference`, written once
against an array namespace) and one compiled backend that fuses them for built-in networks on
the CPU (:mod:`~chainrule.engine.compiled`, numba); :mod:`~chainrule.engine.select` picks one."""

from chainrule.engine.select import (
    ENGINES,
    EngineFallbackWarning,
    compiled_backend,
    engine,
    numba_available,
    use_engine,
)

__all__ = [
    "ENGINES",
    "EngineFallbackWarning",
    "compiled_backend",
    "engine",
    "numba_available",
    "use_engine",
]
