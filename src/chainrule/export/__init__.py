"""ONNX export of fitted chainrule models, and their registration with skl2onnx.

Importing this package is cheap (no onnx, no skl2onnx): ``to_onnx`` loads the converter on
first use, and :func:`install_skl2onnx_hook` registers chainrule's converters with skl2onnx
only once skl2onnx is imported.
"""

from __future__ import annotations

from chainrule.export.hook import install_skl2onnx_hook

__all__ = ["install_skl2onnx_hook", "register_skl2onnx", "to_onnx"]

#: the lazily imported public names, by the module that defines them
_LAZY = {
    "to_onnx": "chainrule.export.convert",
    "register_skl2onnx": "chainrule.export.skl2onnx_support",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
