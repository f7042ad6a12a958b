"""chainrule's converters registered with skl2onnx when skl2onnx is imported, not before
(:mod:`chainrule.export.hook`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")


pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_hook_registers_when_skl2onnx_is_imported_later():
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import chainrule as cr
        from chainrule.export import install_skl2onnx_hook
        install_skl2onnx_hook()
        assert "onnx" not in sys.modules and "skl2onnx" not in sys.modules
        X = np.random.default_rng(0).normal(size=(20, 3)); y = np.arange(20) % 2
        clf = cr.MLPClassifier((4,), solver="lbfgs", max_iter=5).fit(X, y)
        import skl2onnx
        outputs = [o.name for o in skl2onnx.to_onnx(clf, X).graph.output]
        print(outputs)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['output_label', 'output_probability']"
