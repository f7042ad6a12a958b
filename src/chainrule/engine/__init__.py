"""The engine: the derivation's equations (:mod:`~chainrule.engine.reference`, written once
against an array namespace) and one compiled engine that runs them for built-in networks on the
CPU (:mod:`~chainrule.engine.compiled` around the extension ``native``, built when the package
installs), each a backend with one protocol (:mod:`~chainrule.engine.backend`);
:mod:`~chainrule.engine.select` picks one."""

from chainrule.engine.backend import Backend, ReferenceBackend, minibatch_weights
from chainrule.engine.select import (
    ENGINES,
    EngineFallbackWarning,
    backend_for,
    compiled_available,
    engine,
    use_engine,
)

__all__ = [
    "ENGINES",
    "Backend",
    "EngineFallbackWarning",
    "ReferenceBackend",
    "backend_for",
    "compiled_available",
    "engine",
    "minibatch_weights",
    "use_engine",
]
