"""The export package's lazy names (:mod:`chainrule.export`): importing it loads neither the
converter nor onnx; ``to_onnx`` and ``register_skl2onnx`` are the defining modules' functions."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chainrule.export as export


def test_importing_the_package_loads_no_converter_and_no_onnx():
    code = (
        "import sys, chainrule.export; "
        "print(sorted(m for m in ('chainrule.export.convert', 'onnx', 'skl2onnx') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_lazy_names_are_the_defining_modules_functions_and_others_are_refused():
    from chainrule.export import convert, skl2onnx_support

    assert export.to_onnx is convert.to_onnx
    assert export.register_skl2onnx is skl2onnx_support.register_skl2onnx
    with pytest.raises(AttributeError, match="has no attribute 'to_tflite'"):
        export.to_tflite
