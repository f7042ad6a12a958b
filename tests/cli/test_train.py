"""``chainrule train`` (:mod:`chainrule.cli.train`): it reports, saves and resumes, and the
command line as a newcomer meets it (issue 21, point 10): the tour's command trains a good
model on every built-in data set and says when it stopped early, the tour's files can be made,
and mistakes (a typo'd flag, a missing file, an activation that does not exist, the target in
the first column, a host that does not exist) get an answer that helps."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import chainrule as cr
from chainrule import datasets
from chainrule.activations import ACTIVATIONS
from chainrule.cli.main import main
from chainrule.cli.train import HIDDEN_ACTIVATIONS

from commands import call, run

ROOT = Path(__file__).resolve().parents[2]
#: the tour's training command (README), less its data set and folder
TOUR = ["train", "--hidden", "16", "--learning-rate", "0.01", "--quiet"]


def _figure(text: str, name: str) -> float:
    return float(text.split(name)[1].split()[0])


def _references(name: str):
    """The same test split as ``chainrule train`` (0.25, seed 0, stratified for a classifier)
    and the fitted reference models: a linear model and 5 nearest neighbours."""
    data = datasets.load(name)
    classify = data.task == "classification"
    X_tr, X_te, y_tr, y_te = train_test_split(
        data.X, data.y, test_size=0.25, random_state=0, stratify=data.y if classify else None
    )
    if classify:
        models = [LogisticRegression(max_iter=10_000), KNeighborsClassifier()]
    else:
        models = [LinearRegression(), KNeighborsRegressor()]
    fitted = [make_pipeline(StandardScaler(), m).fit(X_tr, y_tr) for m in models]
    return fitted, X_te, y_te


@pytest.mark.parametrize("name", list(datasets.BUILTIN))
def test_the_tour_command_trains_a_good_model_on_every_builtin_data_set(capsys, tmp_path, name):
    """As good as the better of a linear model and 5 nearest neighbours on the same test split,
    up to the noise of that split: for accuracy p on n test samples, two binomial standard
    errors 2 sqrt(p (1 - p) / n) plus one sample; for a regression, a test mean squared error
    at most 1 + 2 sqrt(2 / n) times the reference's (the relative standard error of a mean of
    n squared normal errors is sqrt(2 / n)). XOR has no test split: all 4 samples right.
    Before, iris stopped early at epoch 37 with a test accuracy of 0.76."""
    status, out, err = call(capsys, *TOUR, "--data", name, "--out", tmp_path)
    assert status == 0, err
    assert "warning" not in err, err
    if name == "xor":
        assert _figure(out, "train accuracy") == 1.0
    elif datasets.BUILTIN[name] == "classification":
        fitted, X_te, y_te = _references(name)
        p, n = max(m.score(X_te, y_te) for m in fitted), len(y_te)
        floor = p - 2 * math.sqrt(p * (1 - p) / n) - 1 / n
        assert _figure(out, "test accuracy") >= floor, (out, p)
    else:
        fitted, X_te, y_te = _references(name)
        reference = min(mean_squared_error(y_te, m.predict(X_te)) for m in fitted)
        model = cr.load(tmp_path / "model.crm")
        mse = mean_squared_error(y_te, model.predict(X_te))
        assert mse <= reference * (1 + 2 * math.sqrt(2 / len(y_te))), (mse, reference)
    epochs = int(_figure(out, "epochs:"))
    assert (epochs < 200) == ("stopped" in out), out  # a fit that stops early says so


def test_a_fit_that_stops_early_says_when_and_which_weights_it_kept(capsys, tmp_path):
    status, out, err = call(capsys, *TOUR, "--data", "breast_cancer", "--out", tmp_path)
    assert status == 0, err
    model = cr.load(tmp_path / "model.crm").model
    best = int(np.argmin(model.validation_loss_curve_)) + 1
    assert model.early_stopping and model.n_iter_ < 200
    assert (
        f"stopped early at epoch {model.n_iter_} of 200: the validation loss did not improve "
        f"by more than tol=0.0001 for 10 epochs; the model keeps the weights of epoch {best}"
    ) in out
    status, out, err = call(capsys, *TOUR, "--data", "wine", "--epochs", "5", "--out",
                            tmp_path / "all")  # fmt: skip
    assert status == 0 and "epochs: 5" in out and "stopped" not in out


# -- the tour's files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(datasets.BUILTIN))
def test_the_data_command_writes_a_builtin_data_set_as_csv(tmp_path, name):
    path = tmp_path / f"{name}.csv"
    assert main(["data", name, "-o", str(path)]) == 0
    expected, again = datasets.load(name), datasets.read_csv(path)
    assert again.feature_names == expected.feature_names and again.target_name == "target"
    np.testing.assert_array_equal(again.X, expected.X)  # every float, bit for bit
    np.testing.assert_array_equal(again.y, expected.y)
    assert again.task == expected.task


def test_the_data_command_writes_to_standard_output(capsys):
    status, out, _ = call(capsys, "data", "xor")
    assert status == 0 and out == "x1,x2,target\n0.0,0.0,0\n1.0,0.0,1\n0.0,1.0,1\n1.0,1.0,0\n"


# -- mistakes --------------------------------------------------------------------------------


def test_hidden_layers_are_offered_every_activation_but_the_output_ones():
    output_only = {"softmax", "exp", "exponential"}
    # the built-ins alone: other tests register activations of their own in the same process
    assert sorted(HIDDEN_ACTIVATIONS) == sorted(set(ACTIVATIONS) - output_only)


def test_an_unknown_activation_is_refused_by_the_parser(capsys, monkeypatch):
    """Before any data is read or the progress bar starts (before, after it started)."""

    def no_work(*args, **kwargs):
        raise AssertionError("the command started its work")

    monkeypatch.setattr(datasets, "load", no_work)
    for name in ("swish", "softmax", "exp"):
        with pytest.raises(SystemExit) as exit_:
            call(capsys, "train", "--data", "iris", "--activation", name)
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert f"argument --activation: invalid choice: '{name}'" in err


@pytest.mark.parametrize(
    ("argv", "usage", "extras"),
    [
        (["train", "--hiden", "3"], "chainrule train ", "--hiden 3 (did you mean --hidden?)"),
        (["predict", "m", "d", "--probs"], "chainrule predict ", "--probs (did you mean --proba?)"),
        (["calc", "derivative", "x", "--att=2"], "chainrule calc derivative ", "--att=2 (did you"),
    ],
)
def test_a_typo_in_a_flag_shows_the_commands_usage_and_the_nearest_flag(argv, usage, extras):
    result = subprocess.run(
        [sys.executable, "-m", "chainrule", *argv], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.startswith("usage: " + usage), result.stderr
    assert f"{usage.strip()}: error: unrecognized arguments: {extras}" in result.stderr


@pytest.mark.parametrize("command", ["predict", "evaluate", "explain", "export"])
def test_a_missing_model_file_gets_a_sentence_not_an_errno(capsys, tmp_path, command):
    argv = [command, tmp_path / "nothere.crm"] + (
        [tmp_path] if command in ("predict", "evaluate") else []
    )
    status, _, err = call(capsys, *argv)
    assert status == 1 and "[Errno" not in err, err
    assert f"no model file {tmp_path / 'nothere.crm'}: give a file that `chainrule train`" in err


def test_an_os_error_is_named_by_its_file_and_reason():
    from chainrule.cli.main import error_line

    error = PermissionError(13, "Permission denied", "/x/model.crm")
    assert error_line(error) == "/x/model.crm: permission denied"


def test_a_target_in_the_first_column_gets_a_hint(capsys, tmp_path):
    labels = tmp_path / "labels.csv"  # string labels first: the last column is numeric
    labels.write_text("species,a,b\n" + "setosa,1,2\nvirginica,3,4\n" * 12)
    status, _, err = call(capsys, "train", "--data", labels, "--quiet", "--out", tmp_path / "r")
    assert status == 1
    assert "column 'species'" in err and "if it is the first column, pass --target species" in err
    missing = tmp_path / "missing.csv"  # an error about a first column of numbers: no hint
    missing.write_text("a,b,y\n" + "nan,1,0\n2,3,1\n" * 12)
    status, _, err = call(capsys, "train", "--data", missing, "--quiet", "--out", tmp_path / "m")
    assert status == 1 and "column 'a' holds a missing value" in err and "--target" not in err
    numbers = tmp_path / "numbers.csv"  # a numeric target first: it trains, with a note
    numbers.write_text("label,a,b\n" + "0,1,2.5\n1,3,4.5\n" * 12)
    status, _, err = call(capsys, "train", "--data", numbers, "--quiet", "--out", tmp_path / "n")
    assert status == 0, err
    assert "note: the target is the last column unless --target names another" in err
    status, _, err = call(capsys, "train", "--data", numbers, "--target", "label", "--quiet",
                          "--out", tmp_path / "t")  # fmt: skip
    assert status == 0 and "note" not in err


def test_a_host_that_does_not_exist_is_not_told_to_change_the_port(capsys):
    pytest.importorskip("uvicorn")
    status, _, err = call(capsys, "playground", "--host", "no-such-host.invalid", "--no-browser")
    assert status == 1
    assert "--host no-such-host.invalid: no such address" in err and "--port" not in err


def test_train_does_not_replace_a_run_without_force(capsys, tmp_path):
    """Before, a second ``chainrule train`` replaced ``chainrule-out/`` without a word."""
    args = ["train", "--data", "xor", "--epochs", "3", "--quiet", "--out", tmp_path]
    assert call(capsys, *args)[0] == 0
    first = (tmp_path / "model.crm").read_bytes()
    status, _, err = call(capsys, *args, "--seed", "1")
    assert status == 1 and "holds a run already (model.crm, loss.png): pass --force" in err
    assert (tmp_path / "model.crm").read_bytes() == first
    assert call(capsys, *args, "--seed", "1", "--force")[0] == 0
    assert (tmp_path / "model.crm").read_bytes() != first


# -- the install hints -------------------------------------------------------------------------


def _hints():
    """``(file, hint)``: each ``pip install`` of an extra in the code, docs and README, but for
    the README's set-up lines (``python3 -m venv .venv && ... pip install -e ".[test]"``: a
    clone's own tools, installed from the clone on purpose)."""
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "src").rglob("*.py")]
    for path in files:
        for line in path.read_text().splitlines():
            if not line.startswith("python3 -m venv"):
                for hint in re.findall(r"pip install [^`\n)]*\[[\w,-]+\]", line):
                    yield path.relative_to(ROOT), hint


def test_the_install_hints_agree():
    """One form, ``pip install "chainrule[EXTRA]"`` (it works in any folder once chainrule is
    installed, from a clone too), for extras that exist."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    hints = list(_hints())
    assert hints
    for path, hint in hints:
        assert "-e" not in hint.split(), (path, hint)
        extra = re.search(r"chainrule\[([\w-]+)\]", hint)
        assert extra and extra.group(1) in extras, (path, hint)


def test_dropout_trains_per_layer_and_is_saved_with_the_model(capsys, tmp_path):
    args = ["train", "--data", "wine", "--hidden", "8,6", "--epochs", "3", "--quiet"]
    status, _, err = call(capsys, *args, "--dropout", "0.2,0.5", "--out", tmp_path)
    assert status == 0, err
    model = cr.load(tmp_path / "model.crm").model
    assert model.dropout == [0.2, 0.5] and model.network_.dropout == (0.2, 0.5)
    status, _, err = call(capsys, *args, "--dropout", "0.2", "--out", tmp_path / "one")
    assert status == 0, err
    assert cr.load(tmp_path / "one" / "model.crm").model.network_.dropout == (0.2, 0.2)
    with pytest.raises(SystemExit):
        main(["train", "--dropout", "1.0"])
    assert "dropout rates must be in [0, 1)" in capsys.readouterr().err


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


def test_train_takes_the_penalty_and_weight_decay(tmp_path):
    out = tmp_path / "run"
    run("train", "--data", "iris", "--hidden", "4", "--epochs", "3", "--quiet", "--out", out,
        "--alpha", "0.01", "--l1-ratio", "0.5", "--weight-decay", "0.02")  # fmt: skip
    params = cr.load(out / "model.crm").model.get_params()
    assert (params["alpha"], params["l1_ratio"], params["weight_decay"]) == (0.01, 0.5, 0.02)
    bad = run("train", "--data", "iris", "--l1-ratio", "1.5", "--out", out, check=False)
    assert bad.returncode == 2 and "--l1-ratio" in bad.stderr


def test_help_lists_each_addition_beyond_scikit_learn(capsys):
    """``chainrule train --help`` names issue 26's flags, each with its own help line."""
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--help"])
    assert exit_.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for flag in ("--dropout", "--weight-decay", "--l1-ratio", "--schedule", "--validation"):
        assert re.search(rf"{flag} [A-Z0-9_\[\]:=,.]+ \w", help_text), flag
