"""Registries keyed by parameter strings (as scikit-learn's ``ACTIVATIONS``/``LOSS_FUNCTIONS``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Built-in factories by name, plus user objects registered so that saved models load."""

    def __init__(self, kind: str, base: type[T], builtins: dict[str, Callable[..., T]]) -> None:
        self.kind = kind
        self.base = base
        self.builtins = builtins
        self.user: dict[str, T] = {}

    def register(self, obj: T) -> None:
        """Make a user object loadable by its name (saved models store only the name)."""
        if not isinstance(obj, self.base):
            raise TypeError(f"expected a chainrule.{self.base.__name__}, got {type(obj).__name__}")
        if obj.name in self.builtins:
            raise ValueError(f"{obj.name!r} is a built-in {self.kind} name")
        self.user[obj.name] = obj

    def names(self) -> list[str]:
        """Every name :meth:`get` accepts."""
        return sorted({*self.builtins, *self.user})

    def get(self, spec, **params) -> T:
        """An object from a name, a config dict (``{"name": ..., **params}``) or an instance."""
        if isinstance(spec, self.base):
            return spec
        if isinstance(spec, dict):
            params = {**{k: v for k, v in spec.items() if k != "name"}, **params}
            spec = spec.get("name")
        if isinstance(spec, str):
            if spec in self.builtins:
                obj = self.builtins[spec](**params)
                obj.builtin = True  # pickled by its config alone, see BuiltinState
                return obj
            if spec in self.user:
                return self.user[spec]
            raise ValueError(f"unknown {self.kind} {spec!r}; valid names are {self.names()}")
        raise TypeError(
            f"{self.kind} must be a name or a chainrule.{self.base.__name__}, "
            f"got {type(spec).__name__}"
        )


class BuiltinState:
    """What activations and costs share: a config (``{"name": ...}`` and any parameters) that
    identifies one (equality, hashing, ``repr``), and pickling by that config alone for
    built-ins.

    A built-in's state is rebuilt from its registry on loading, so pickles (and ``skops.io``
    files) hold no references to functions; user objects pickle their ``__dict__`` as usual.
    """

    builtin = False

    def registry(self) -> Registry:
        raise NotImplementedError

    def __getstate__(self) -> dict:
        if self.builtin:
            return {"config": self.get_config()}
        return self.__dict__

    def __setstate__(self, state: dict) -> None:
        if "config" in state and len(state) == 1:
            config = dict(state["config"])
            if type(self).__init__ is not self.base().__init__:
                # a class of its own (Sigmoid, Huber, ...): its config is its arguments
                del config["name"]
                type(self).__init__(self, **config)
                return
            state = self.registry().get(config).__dict__
        self.__dict__.update(state)

    def base(self) -> type:
        """The base class (Activation or Cost), whose ``__init__`` the factories call."""
        raise NotImplementedError

    def get_config(self) -> dict:
        """The JSON-able description that the registry rebuilds this from."""
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{self.base().__name__}({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, self.base()) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(self.name)
