"""``chainrule export`` (:mod:`chainrule.cli.export`): a saved model as an ONNX file."""

from __future__ import annotations

import argparse
import importlib.util
import os
import stat
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

from commands import run

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")


from onnx_runs import assert_labels, data, fitted, run_onnx, tolerance  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def load_cli_module():
    """``chainrule.cli.export``, loaded from its file (independent of the cli package)."""
    path = Path(cr.__file__).parent / "cli" / "export.py"
    spec = importlib.util.spec_from_file_location("chainrule_cli_export", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse(module, argv):
    parser = argparse.ArgumentParser(prog=f"chainrule {module.NAME}")
    module.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_export_writes_an_onnx_file(tmp_path, capsys):
    module = load_cli_module()
    X, y = data()
    clf = fitted(cr.MLPClassifier, X, np.array(["a", "b", "c"])[y])
    clf.save(tmp_path / "model.crm")
    assert module.run(parse(module, [str(tmp_path / "model.crm")])) == 0
    assert "outputs output_label, output_probability" in capsys.readouterr().out
    out = run_onnx(onnx.load(tmp_path / "model.onnx"), X)  # float64 input, as the model's
    proba = clf.predict_proba(X)
    maps = np.array([[row[c] for c in clf.classes_] for row in out["output_probability"]])
    np.testing.assert_allclose(maps, proba, **tolerance(np.float32))  # ZipMap's float32
    assert_labels(out["output_label"], clf.predict(X), proba, tolerance(np.float64))
    out = tmp_path / "other.onnx"
    assert module.run(parse(module, [str(tmp_path / "model.crm"), "-o", str(out)])) == 0
    assert out.exists()


def test_cli_export_reports_a_bad_path(tmp_path):
    module = load_cli_module()
    with pytest.raises(FileNotFoundError, match=r"missing\.crm"):
        module.run(parse(module, [str(tmp_path / "missing.crm")]))
    X, y = data()
    fitted(cr.MLPClassifier, X, y).save(tmp_path / "model.crm")
    args = parse(module, [str(tmp_path / "model.crm"), "-o", str(tmp_path / "no" / "m.onnx")])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        module.run(args)
    with pytest.raises(cr.ModelFormatError):
        (tmp_path / "junk.crm").write_bytes(b"not a model")
        module.run(parse(module, [str(tmp_path / "junk.crm")]))


def test_export_writes_only_regular_files_and_takes_a_run_directory(trained, tmp_path):
    pytest.importorskip("onnx")
    out, _, _ = trained
    run("export", out)  # a run directory: the model inside, exported beside it
    assert (out / "model.onnx").is_file()
    os.mkfifo(tmp_path / "fifo.onnx")
    (tmp_path / "dir.onnx").mkdir()
    for name, kind in [("fifo.onnx", "is a FIFO"), ("dir.onnx", "is a directory")]:
        result = run("export", out, "-o", tmp_path / name, check=False)
        assert result.returncode == 1 and kind in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert stat.S_ISFIFO((tmp_path / "fifo.onnx").stat().st_mode)
    real, link = tmp_path / "real.onnx", tmp_path / "link.onnx"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link.symlink_to(real)
    run("export", out / "model.crm", "-o", link)
    assert link.is_symlink() and real.read_bytes() != b"old"  # the file it names is replaced
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["dir.onnx", "fifo.onnx", "link.onnx", "real.onnx"]
