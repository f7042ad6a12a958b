"""End to end: the installed ``chainrule`` command, run in a subprocess."""

from __future__ import annotations

import csv
import os
import shutil
import stat
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.image import imread
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule import datasets, plotting

CHAINRULE = shutil.which("chainrule") or pytest.fail("the chainrule command is not installed")


def run(*args, cwd=None, check=True):
    result = subprocess.run(
        [CHAINRULE, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained by `chainrule train` on iris, and a CSV of iris with string labels."""
    out = tmp_path_factory.mktemp("iris")
    result = run(
        "train",
        "--data",
        "iris",
        "--hidden",
        "8",
        "--learning-rate",
        "0.01",
        "--quiet",
        "--out",
        out,
    )
    data = load_iris()
    path = out / "iris.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*data.feature_names, "species"])
        for row, t in zip(data.data, data.target, strict=True):
            w.writerow([*row, data.target_names[t]])
    return out, result, path


def test_train_reports_and_saves(trained):
    out, result, _ = trained
    text = result.stdout
    assert "train accuracy" in text and "test accuracy" in text
    assert "confusion matrix" in text and "epochs:" in text and "seconds:" in text
    assert f"saved the model to {out / 'model.crm'}" in text
    assert (out / "model.crm").is_file() and (out / "loss.png").is_file()
    accuracy = float(text.split("test accuracy")[1].split()[0])
    assert accuracy > 0.85
    model = cr.load(out / "model.crm")
    assert model.model.n_iter_ >= 1 and model.info["data"] == "iris"


def test_train_shows_a_progress_bar_unless_quiet(tmp_path):
    result = run(
        "train",
        "--data",
        "xor",
        "--hidden",
        "4",
        "--epochs",
        "5",
        "--test-size",
        "0.5",
        "--out",
        tmp_path,
        "--no-early-stopping",
    )
    assert "epoch" in result.stderr and "loss" in result.stderr


def test_train_regression_reports_r2_and_mae(tmp_path):
    result = run(
        "train",
        "--data",
        "diabetes",
        "--epochs",
        "30",
        "--quiet",
        "--out",
        tmp_path,
        "--learning-rate",
        "0.01",
    )
    assert "test R^2" in result.stdout and "MAE" in result.stdout


def test_train_from_csv_with_string_labels(trained, tmp_path):
    _, _, path = trained
    result = run(
        "train",
        "--data",
        path,
        "--target",
        "species",
        "--solver",
        "lbfgs",
        "--hidden",
        "8",
        "--quiet",
        "--out",
        tmp_path,
    )
    assert "setosa" in result.stdout  # the confusion matrix names the labels


def test_predict_and_evaluate(trained, tmp_path):
    out, _, path = trained
    pred = tmp_path / "pred.csv"
    run("predict", out / "model.crm", path, "--proba", "-o", pred)
    with pred.open() as f:
        rows = list(csv.reader(f))
    assert rows[0][:2] == ["prediction", "proba_0"] and len(rows) == 151
    assert sum(float(v) for v in rows[1][1:]) == pytest.approx(1.0, abs=1e-4)
    printed = run("predict", out / "model.crm", path).stdout.splitlines()
    assert printed[0] == "prediction" and len(printed) == 151
    # the iris CSV has string labels; the model learned integer ones: evaluate on a numeric copy
    numeric = tmp_path / "numeric.csv"
    with path.open() as f, numeric.open("w", newline="") as g:
        rows = list(csv.reader(f))
        names = list(load_iris().target_names)
        w = csv.writer(g)
        w.writerow(rows[0])
        for row in rows[1:]:
            w.writerow([*row[:-1], names.index(row[-1])])
    result = run("evaluate", out / "model.crm", numeric, "--target", "species")
    assert "accuracy" in result.stdout and "confusion matrix" in result.stdout


@pytest.mark.parametrize("what", ["loss", "weights", "activations", "boundary"])
def test_every_plot_is_a_png(what, trained, tmp_path):
    out, _, _ = trained
    if what == "boundary":
        run(
            "train",
            "--data",
            "moons",
            "--hidden",
            "8",
            "--solver",
            "lbfgs",
            "--quiet",
            "--out",
            tmp_path,
        )
        model = tmp_path / "model.crm"
    else:
        model = out / "model.crm"
    png = tmp_path / f"{what}.png"
    args = ["plot", "--what", what, "-o", png] + ([] if what == "activations" else [model])
    run(*args)
    image = imread(png)
    # the expected size: the same figure built here, at save_figure's 100 dpi
    if what == "activations":
        fig = plotting.plot_activations(beta=(1.0, 5.0))
    elif what == "boundary":
        moons = datasets.load("moons")
        fig = plotting.plot_decision_boundary(cr.load(model), moons.X, moons.y)
    else:
        draw = {"loss": plotting.plot_loss, "weights": plotting.plot_weights}[what]
        fig = draw(cr.load(model).model)
    width, height = (fig.get_size_inches() * 100).round().astype(int)
    assert image.shape[:2] == (height, width) and image.ndim == 3
    assert image[..., :3].std() > 0.01  # not a blank canvas


def test_plot_boundary_refuses_data_that_is_not_2d(trained):
    out, _, _ = trained
    result = run("plot", out / "model.crm", "--what", "boundary", check=False)
    assert result.returncode == 1 and "2-D data" in result.stderr


def test_explain_prints_every_layer(trained):
    out, _, _ = trained
    text = run("explain", out / "model.crm", "--sample", "7").stdout
    for piece in (
        "sample 7",
        "z^1",
        "a^1",
        "z^2",
        "a^2",
        "delta^2",
        "delta^1",
        "largest |dC/dW^2| entries",
        "dC/db^1",
    ):
        assert piece in text, piece


def test_explain_without_a_model_trains_the_xor_demo():
    text = run("explain", "--sample", "1").stdout
    assert "XOR" in text and "delta^1" in text and "layer 2 (1 units, sigmoid)" in text


def test_demo_xor_prints_the_seed_table():
    lines = run("demo", "xor").stdout.splitlines()
    table = lines[lines.index("Input\tOutput\tQuantized") + 1 :]
    assert [row.split("\t")[2] for row in table] == ["[0]", "[1]", "[1]", "[0]"]


def test_calc():
    assert run("calc", "derivative", "x**5").stdout.strip() == "5*x**4"
    assert run("calc", "derivative", "x**5", "--at", "x=2").stdout.strip() in ("80", "80.0")
    critical = run("calc", "critical", "x**3 + y**3 - 3*x*y").stdout
    assert "saddle at x=0, y=0" in critical and "minimum at x=1, y=1" in critical
    descent = run("calc", "descent", "(x-3)**2 + (y+1)**2", "--start", "x=0,y=0").stdout
    assert "gradient norm below tol" in descent and "x = 3" in descent
    hostile = run("calc", "derivative", "__import__('os').system('true')", check=False)
    assert hostile.returncode == 1 and "Traceback" not in hostile.stderr


def test_help_on_every_command():
    for command in ("train", "predict", "evaluate", "explain", "plot", "demo", "calc"):
        result = run(command, "--help")
        assert result.stdout.startswith("usage: chainrule " + command)


def test_errors_are_one_sentence_with_exit_status_1(tmp_path):
    result = run("predict", tmp_path / "missing.crm", tmp_path / "x.csv", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "missing.crm" in result.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,target\n1,red,0\n2,blue,1\n")
    result = run("train", "--data", bad, "--quiet", "--out", tmp_path, check=False)
    assert result.returncode == 1 and "column 'b' is not numeric" in result.stderr
    garbage = tmp_path / "garbage.crm"
    garbage.write_bytes(b"not a model")
    result = run("predict", garbage, bad, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_bad_usage_exits_2_and_debug_shows_the_traceback(tmp_path):
    assert run("train", "--hidden", "0", check=False).returncode == 2
    assert run("frobnicate", check=False).returncode == 2
    result = run("predict", tmp_path / "missing.crm", "x.csv", "--debug", check=False)
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_python_dash_m_runs_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", "demo", "xor"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "Quantized" in result.stdout


def test_saved_predictions_are_bit_identical(trained):
    out, _, _ = trained
    model = cr.load(out / "model.crm")
    again = cr.load(out / "model.crm")
    X = load_iris().data
    np.testing.assert_array_equal(model.predict_proba(X), again.predict_proba(X))


def test_train_resume(tmp_path):
    args = [
        "train",
        "--data",
        "wine",
        "--hidden",
        "8",
        "--epochs",
        "30",
        "--quiet",
        "--no-early-stopping",
        "--out",
        tmp_path,
        "--resume",
        tmp_path / "fit.ckpt",
    ]
    first = run(*args)
    assert (tmp_path / "fit.ckpt").is_file() and "epochs: 30" in first.stdout
    again = run(*args)  # the checkpoint is at max_iter: nothing left to train, same model
    assert "epochs: 30" in again.stdout
    assert (
        first.stdout.split("test accuracy")[1].split()[0]
        == again.stdout.split("test accuracy")[1].split()[0]
    )


# -- start-up: a fast --help (issue 13.2) --------------------------------------------------------

HEAVY = ("numpy", "scipy", "sklearn", "matplotlib", "sympy")


def test_the_parser_and_the_package_import_nothing_heavy():
    code = (
        "import sys, chainrule; from chainrule.cli.main import build_parser; build_parser(); "
        "print(sorted({n.split('.')[0] for n in sys.modules} & set(sys.argv[1:])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *HEAVY], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_lazy_package_keeps_every_public_name():
    assert set(cr.__all__) <= set(dir(cr))
    for name in cr.__all__:
        assert getattr(cr, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        cr.nothing
    code = "import chainrule as cr; print(cr.plotting.plot_loss.__module__, cr.load.__module__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["chainrule.plotting.curves", "chainrule.persistence.models"]


def test_adding_a_command_is_one_line():
    import importlib

    cli_main = importlib.import_module("chainrule.cli.main")  # chainrule.cli.main: the function
    parser = cli_main.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert list(commands) == cli_main.COMMANDS


# -- every error is one line and a status (issue 17.7) ------------------------------------------


def call(capsys, *argv):
    """``chainrule ARGV`` in this process: ``(status, stdout, stderr)``."""
    from chainrule.cli.main import main

    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_memory_error_is_one_line(capsys, tmp_path):
    status, _, err = call(
        capsys, "train", "--data", "xor", "--hidden", 10**11, "--quiet", "--out", tmp_path
    )
    assert status == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("chainrule train: error: not enough memory")


def test_overflow_and_index_errors_are_one_line(capsys, monkeypatch, trained):
    from chainrule import calculus

    def overflow(*args, **kwargs):
        raise OverflowError("(34, 'Numerical result out of range')")

    monkeypatch.setattr(calculus, "derivative", overflow)
    status, _, err = call(capsys, "calc", "derivative", "exp(exp(exp(exp(x))))", "--at", "x=5")
    assert status == 1 and err.count("\n") == 1
    assert err.startswith("chainrule calc: error: OverflowError: (34, 'Numerical result")

    class Crafted:
        def predict(self, X):
            return np.arange(3)[np.full(len(X), 7)]  # what mismatched classes_ give

    out, _, iris = trained
    monkeypatch.setattr(
        "chainrule.cli.predict.load_model", lambda path: (Crafted(), {"target": "species"})
    )
    status, _, err = call(capsys, "predict", out, iris)
    assert status == 1 and err.count("\n") == 1 and "IndexError: index 7" in err


@pytest.mark.filterwarnings("default::RuntimeWarning")  # as a user's Python shows them
def test_warnings_are_one_line_each(capsys, monkeypatch):
    import warnings

    from chainrule.cli import calc

    def warns(args):
        warnings.warn("overflow encountered in divide\nmore detail", RuntimeWarning, stacklevel=1)
        warnings.warn("a second one", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(calc, "run", warns)
    status, _, err = call(capsys, "calc", "derivative", "x")
    assert status == 0
    assert err.splitlines() == [
        "chainrule calc: warning: overflow encountered in divide",
        "chainrule calc: warning: a second one",
    ]
    with warnings.catch_warnings(record=True) as caught:  # --debug: Python's own warnings
        warnings.simplefilter("always")
        status, _, err = call(capsys, "calc", "derivative", "x", "--debug")
    assert status == 0 and "chainrule calc: warning" not in err
    assert [str(w.message) for w in caught] == [
        "overflow encountered in divide\nmore detail",
        "a second one",
    ]


def test_ctrl_c_during_start_up_exits_130(capsys, monkeypatch, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(datasets, "load", interrupted)
    status, _, err = call(capsys, "train", "--data", "xor", "--out", tmp_path)
    assert status == 130 and err == "chainrule train: interrupted\n"


def test_ctrl_c_during_a_checkpoint_write_saves_the_model_and_exits_130(
    capsys, monkeypatch, tmp_path
):
    import os
    import signal

    from chainrule.persistence import atomic

    real, calls = atomic.atomic_write, []

    def write_then_interrupt(path):
        calls.append(path)
        if len(calls) == 2:  # the second checkpoint: Ctrl-C in the middle of its write
            os.kill(os.getpid(), signal.SIGINT)
        return real(path)

    monkeypatch.setattr("chainrule.persistence.writer.atomic_write", write_then_interrupt)
    ckpt = tmp_path / "fit.ckpt"
    status, _, err = call(
        capsys, "train", "--data", "iris", "--epochs", "50", "--no-early-stopping",
        "--quiet", "--out", tmp_path / "run", "--resume", ckpt,
    )  # fmt: skip
    assert status == 130, err
    assert "interrupted; saved the model kept so far" in err
    model = cr.load(tmp_path / "run") if False else cr.load(tmp_path / "run" / "model.crm")
    assert 2 <= model.model.n_iter_ < 50
    assert cr.load(ckpt).n_iter_ >= 2  # the checkpoint was finished, not torn
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.ckpt", "run"]


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_during_the_final_save_saves_the_model_then_exits_130(
    capsys, monkeypatch, tmp_path, presses
):
    """Ctrl-C (once or twice) after fitting ends, as the model is being saved: the save and
    the loss curve are finished, then the status is 130."""
    import os
    import signal

    from chainrule.estimators import Standardized

    real = Standardized.save

    def interrupted_save(self, path):
        for _ in range(presses):
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, before the write
        real(self, path)

    monkeypatch.setattr(Standardized, "save", interrupted_save)
    status, out, err = call(capsys, "train", "--data", "iris", "--epochs", "3", "--quiet",
                            "--out", tmp_path)  # fmt: skip
    assert status == 130, err
    assert "interrupted; saved the model kept so far" in err
    assert "saved the model to" in out
    assert cr.load(tmp_path / "model.crm").model.n_iter_ == 3
    assert (tmp_path / "loss.png").is_file()


@pytest.mark.slow
def test_ctrl_c_while_training_exits_130_after_saving(tmp_path):
    import signal
    import time

    ckpt = tmp_path / "fit.ckpt"
    process = subprocess.Popen(
        [CHAINRULE, "train", "--data", "digits", "--epochs", "100000", "--no-early-stopping",
         "--quiet", "--out", tmp_path / "run", "--resume", ckpt],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        while not ckpt.exists() and process.poll() is None:
            time.sleep(0.05)  # training is under way once the first checkpoint exists
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "saved the model to" in out and (tmp_path / "run" / "model.crm").is_file()


# -- rough edges (issue 17.8) -------------------------------------------------------------------


def test_train_on_xor_with_the_defaults(capsys, tmp_path):
    status, out, err = call(capsys, "train", "--data", "xor", "--quiet", "--out", tmp_path)
    assert status == 0, err
    assert "only 4 samples" in err and "no test split" in err
    assert "train accuracy" in out and "test accuracy" not in out


@pytest.mark.parametrize(
    "args",
    [
        ["--batch-size", "0"],
        ["--batch-size", "-5"],
        ["--epochs", "0"],
        ["--learning-rate", "0"],
        ["--learning-rate", "nan"],
        ["--momentum", "1.5"],
        ["--test-size", "1"],
        ["--test-size", "0"],
    ],
)
def test_nonsensical_numbers_are_refused_by_the_parser(capsys, args):
    with pytest.raises(SystemExit) as exit_:
        call(capsys, "train", *args)
    assert exit_.value.code == 2
    assert f"argument {args[0]}" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["out_is_a_file", "nan_in_data", "resume_is_a_directory"])
def test_bad_output_or_data_is_found_before_training(capsys, monkeypatch, tmp_path, case):
    from chainrule.estimators import Standardized

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(Standardized, "fit", no_training)
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "1,2,0\n3,4,1\n5,6,0\n7,8,1\n" * 5)
    args = ["train", "--data", data, "--quiet", "--out", tmp_path / "run"]
    if case == "out_is_a_file":
        (tmp_path / "file").write_text("x")
        args[-1], match = tmp_path / "file", "is a file"
    elif case == "nan_in_data":
        data.write_text("a,b,y\n1,2,0\n3,nan,1\n" + "5,6,0\n7,8,1\n" * 10)
        match = "line 3: column 'b' holds a missing value"
    else:
        (tmp_path / "ckpt").mkdir()
        args += ["--resume", tmp_path / "ckpt"]
        match = "is a directory"
    status, _, err = call(capsys, *args)
    assert status == 1 and match in err, err


def test_standard_input_and_run_directories(trained, tmp_path):
    out, _, iris = trained
    text = iris.read_text()
    result = subprocess.run(
        [CHAINRULE, "predict", out, "-"], input=text, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 151
    names = list(load_iris().target_names)  # the model learned integer labels
    for name in names:
        text = text.replace(name, str(names.index(name)))
    result = subprocess.run(
        [CHAINRULE, "evaluate", out, "-", "--target", "species"],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "all accuracy" in result.stdout, result.stderr
    assert "sample 0" in run("explain", out).stdout
    run("plot", out, "--what", "weights", "-o", tmp_path / "w.png")
    assert (tmp_path / "w.png").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("predict", empty, iris, check=False)
    assert result.returncode == 1 and "without a model.crm" in result.stderr


def test_plot_output_is_checked_before_drawing(capsys, tmp_path):
    (tmp_path / "dir.png").mkdir()
    status, _, err = call(capsys, "plot", "--what", "activations", "-o", tmp_path / "dir.png")
    assert status == 1 and "is a directory" in err


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


def test_predict_output_is_a_regular_file_checked_before_predicting(trained, tmp_path):
    out, _, iris = trained
    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "dir.csv").mkdir()
    for name, kind in [("fifo.csv", "is a FIFO"), ("dir.csv", "is a directory")]:
        result = run("predict", out, iris, "-o", tmp_path / name, check=False)
        assert result.returncode == 1 and kind in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1
    assert stat.S_ISFIFO((tmp_path / "fifo.csv").stat().st_mode)
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old")
    real.chmod(0o640)
    link.symlink_to(real)
    run("predict", out, iris, "-o", link)
    assert link.is_symlink() and len(real.read_text().splitlines()) == 151
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["dir.csv", "fifo.csv", "link.csv", "real.csv"]


# -- CSV files (issue 17.4, 17.8) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"a,a,y\n1,2,0\n", "the column name 'a' appears twice"),
        (b"a,b,y\n1,2,0\n3,4,\n", r"bad.csv, line 3: the target 'y' is empty"),
        (b"a,b,y\n1,2,0\n3,1e400,1\n", r"bad.csv, line 3: column 'b' holds '1e400', past the"),
        (b"a,b,y\n1,2,0\n-1e999,1,1\n", r"bad.csv, line 3: column 'a' holds '-1e999', past"),
        (b"a,b,y\n1,2,0\n\n3,NaN,1\n", r"bad.csv, line 4: column 'b' holds a missing value"),
        (b"a,b,y\n1,2,0\n3,4,caf\xe9\n", r"bad.csv, line 3: not UTF-8 text \(byte 0xe9\)"),
    ],
)
def test_bad_csv_files_name_the_file_line_and_column(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        datasets.read_csv(path)


def test_a_latin1_csv_on_the_command_line_names_the_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,b,label\n1,2,caf\xe9\n3,4,th\xe9\n")
    result = run("train", "--data", path, "--quiet", "--out", tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"chainrule train: error: {path}, line 2: not UTF-8 text (byte 0xe9); "
        "save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
    )


# -- inputs that are not files, and the size of a CSV file (issue 17 review) ---------------------


def _limited_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway read fails fast


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("command", ["predict", "evaluate", "train"])
def test_a_device_or_fifo_is_not_read_as_a_csv_file(trained, tmp_path, command):
    out, _, _ = trained
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for source in ("/dev/zero", fifo):
        argv = ["train", "--data", source, "--out", tmp_path / "run"]
        if command != "train":
            argv = [command, out, source]
        result = subprocess.run(
            [CHAINRULE, *map(str, argv)],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_limited_memory,
        )
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert f"{source} is not a regular file" in result.stderr, result.stderr
        assert "- for standard input" in result.stderr


def test_train_takes_the_penalty_and_weight_decay(tmp_path):
    out = tmp_path / "run"
    run("train", "--data", "iris", "--hidden", "4", "--epochs", "3", "--quiet", "--out", out,
        "--alpha", "0.01", "--l1-ratio", "0.5", "--weight-decay", "0.02")  # fmt: skip
    params = cr.load(out / "model.crm").model.get_params()
    assert (params["alpha"], params["l1_ratio"], params["weight_decay"]) == (0.01, 0.5, 0.02)
    bad = run("train", "--data", "iris", "--l1-ratio", "1.5", "--out", out, check=False)
    assert bad.returncode == 2 and "--l1-ratio" in bad.stderr
