"""The engine: the derivation's equations (:mod:`~chainrule.engine.reference`, written once
against an array namespace) and one compiled engine that runs them for built-in networks on the
CPU (:mod:`~chainrule.engine.compiled` around the extension ``native``, built when the package
installs); :mod:`~chainrule.engine.select` picks one."""

from chainrule.engine.select import (
    ENGINES,
    EngineFallbackWarning,
    compiled_available,
    compiled_backend,
    engine,
    use_engine,
)

__all__ = [
    "ENGINES",
    "EngineFallbackWarning",
    "compiled_available",
    "compiled_backend",
    "engine",
    "use_engine",
]
