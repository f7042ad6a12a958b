"""Register chainrule's converters with skl2onnx when skl2onnx is imported, not before.

Importing skl2onnx (and onnx) takes about a second, too long to pay on every ``import
chainrule``. :func:`install_skl2onnx_hook` registers at once if skl2onnx is already imported;
otherwise it puts a finder on :data:`sys.meta_path` that wraps skl2onnx's loader, so that
registration runs right after ``import skl2onnx`` finishes, and then removes itself.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: the module whose import triggers the registration
TARGET = "skl2onnx"


def install_skl2onnx_hook() -> None:
    """Make ``skl2onnx.to_onnx`` convert chainrule's estimators, without importing skl2onnx.

    Idempotent: calling it again, before or after skl2onnx is imported, changes nothing.
    """
    if TARGET in sys.modules:
        _register()
    elif not any(isinstance(finder, Skl2onnxFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, Skl2onnxFinder())


def _register() -> None:
    importlib.import_module("chainrule.export.skl2onnx_support").register_skl2onnx()


class Skl2onnxFinder(importlib.abc.MetaPathFinder):
    """Finds skl2onnx through the other finders, and hands back a loader that registers."""

    def find_spec(self, fullname, path, target=None):
        if fullname != TARGET:
            return None
        sys.meta_path.remove(self)  # one use; also keeps find_spec below from coming back here
        spec = importlib.util.find_spec(TARGET)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = RegisteringLoader(spec.loader)
        return spec


class RegisteringLoader(importlib.abc.Loader):
    """skl2onnx's own loader, followed by the registration of chainrule's converters."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        module.__loader__ = self.loader
        _register()

    def __getattr__(self, name: str):  # get_resource_reader, is_package, ...
        return getattr(self.loader, name)
