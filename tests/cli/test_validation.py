"""``chainrule train --validation FILE``: a validation set of one's own, read as the training
CSV file is; early stopping, the validation curves, the loss plot, the report and the run's
model use it; a bad file is refused before training, with an error naming the problem."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from sklearn.datasets import load_iris

import chainrule as cr
from chainrule.cli.main import main
from chainrule.plotting import plot_loss

from rounding import U, rounding_bounds

NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
#: the training file's rows once the test split (25 %, rounded up) holds some out
N_TRAIN = 75 - int(np.ceil(0.25 * 75))


def _write(path, header, rows):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Iris in a training file and a validation file (its columns in another order), with
    the species as text labels; ``val_X``, ``val_y``: the validation rows in training order."""
    folder = tmp_path_factory.mktemp("iris")
    data = load_iris()
    X, y = data.data, data.target_names[data.target]
    rows = [[*r, t] for r, t in zip(X[::2], y[::2], strict=True)]
    _write(folder / "train.csv", [*NAMES, "species"], rows)
    order = [2, 0, 3, 1]  # the validation file's columns: another order
    val_rows = [[*r[order], t] for r, t in zip(X[1::2], y[1::2], strict=True)]
    _write(folder / "val.csv", [*(NAMES[j] for j in order), "species"], val_rows)
    return folder, X[1::2], y[1::2]


def call(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def _train(capsys, folder, out, *more):
    args = ["train", "--data", folder / "train.csv", "--validation", folder / "val.csv"]
    args += ["--hidden", "5", "--activation", "tanh", "--learning-rate", "0.01", "--quiet"]
    status, stdout, err = call(capsys, *args, "--out", out, *more)
    assert status == 0, err
    return cr.load(out / "model.crm"), stdout


def _cost(bundle, X, y) -> tuple[float, float]:
    """The model's cost on ``X``, ``y`` as fit computes a validation loss, and the rounding
    bound of that float64 computation."""
    net = bundle.model.network_
    Z, Y = bundle.transform(X), bundle.model.transform_labels(y)
    n = len(Y)
    return net.batch_cost(Z, Y, np.full(n, 1 / n), n), rounding_bounds(net, Z, Y).cost


def test_early_stopping_watches_the_file(capsys, files, tmp_path):
    folder, X_val, y_val = files
    bundle, stdout = _train(capsys, folder, tmp_path / "run", "--epochs", "400")
    model = bundle.model
    assert bundle.info["validation"] == str(folder / "val.csv")  # the run records it
    assert model.early_stopping and model.n_iter_ < 400  # it stopped early
    assert len(model.validation_loss_curve_) == model.n_iter_
    # no split of the training rows: every one trained in every epoch
    assert model.t_ == model.n_iter_ * N_TRAIN
    # the weights kept are the best epoch's on the file: its loss is the curve's minimum (two
    # float64 computations of one cost, each within the bound of the exact one)
    cost, bound = _cost(bundle, X_val, y_val)
    best = min(model.validation_loss_curve_)
    assert abs(cost - best) <= 2 * bound + 8 * U * abs(best)
    accuracy = np.mean(bundle.predict(X_val) == y_val)
    assert f"validation accuracy  {accuracy:.4f}" in stdout


def test_without_early_stopping_the_file_is_recorded(capsys, files, tmp_path):
    folder, X_val, y_val = files
    bundle, _ = _train(capsys, folder, tmp_path / "run", "--epochs", "7", "--no-early-stopping")
    model = bundle.model
    assert not model.early_stopping and model.n_iter_ == 7
    assert len(model.validation_loss_curve_) == len(model.validation_scores_) == 7
    cost, bound = _cost(bundle, X_val, y_val)  # the last epoch's weights are kept
    last = model.validation_loss_curve_[-1]
    assert abs(cost - last) <= 2 * bound + 8 * U * abs(last)
    # the run's loss plot (drawn by plot_loss from the model) has the validation loss curve
    [line] = [ln for ln in plot_loss(model).axes[0].lines if ln.get_label() == "validation loss"]
    np.testing.assert_array_equal(line.get_ydata(), model.validation_loss_curve_)


def _bad(folder, case):
    """A bad validation file for ``case`` and the words its error must hold."""
    header = [*NAMES, "species"]
    row = [5.0, 3.0, 1.5, 0.2, "setosa"]
    if case == "other columns":
        path = _write(folder / "other.csv", ["petal", *header[1:]], [row])
        return path, "has no column 'sepal_length' and other columns ('petal')"
    if case == "missing column":
        path = _write(folder / "fewer.csv", header[1:], [row[1:]])
        return path, "has no column 'sepal_length'"
    if case == "unknown class":
        path = _write(folder / "unknown.csv", header, [row, [*row[:4], "rosa"]])
        return path, "holds 1 class(es) the training data does not have: ['rosa']"
    if case == "empty":
        (folder / "empty.csv").write_text("")
        return folder / "empty.csv", "empty.csv is empty"
    if case == "no rows":
        return _write(folder / "header.csv", header, []), "has a header but no data rows"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case", ["other columns", "missing column", "unknown class", "empty", "no rows"]
)
def test_a_bad_file_is_refused_before_training(capsys, monkeypatch, files, tmp_path, case):
    from chainrule.estimators import Standardized

    monkeypatch.setattr(Standardized, "fit", pytest.fail)  # never reached
    folder, _, _ = files
    path, match = _bad(tmp_path, case)
    args = ["train", "--data", folder / "train.csv", "--validation", path, "--quiet"]
    status, _, err = call(capsys, *args, "--out", tmp_path / "run")
    assert status == 1 and f"--validation {path}" in err and match in err, err


@pytest.mark.parametrize("output", ["model.crm", "loss.png"])
def test_the_file_is_no_output(capsys, files, tmp_path, output):
    """A validation file that is an output of the run is refused, the old run left whole."""
    folder, _, _ = files
    _train(capsys, folder, tmp_path, "--epochs", "2")
    before = (tmp_path / output).read_bytes()
    args = ["train", "--data", folder / "train.csv", "--validation", tmp_path / output]
    status, _, err = call(capsys, *args, "--quiet", "--force", "--out", tmp_path)
    assert status == 1 and "is the same file as the input" in err, err
    assert (tmp_path / output).read_bytes() == before


def test_lbfgs_and_standard_input_twice_are_refused(capsys, files, tmp_path):
    folder, _, _ = files
    args = ["train", "--data", folder / "train.csv", "--validation", folder / "val.csv"]
    status, _, err = call(capsys, *args, "--solver", "lbfgs", "--out", tmp_path / "a")
    assert status == 1 and "--validation needs --solver adam or sgd" in err, err
    status, _, err = call(capsys, "train", "--data", "-", "--validation", "-", "--out", tmp_path)
    assert status == 1 and "cannot both read standard input" in err, err


def test_labels_for_a_regression_are_refused(capsys, tmp_path):
    rows = [[i, 0.5 * i + 0.1] for i in range(40)]
    train = _write(tmp_path / "r.csv", ["x", "y"], rows)
    val = _write(tmp_path / "v.csv", ["x", "y"], [[1, "high"]])
    status, _, err = call(
        capsys, "train", "--data", train, "--validation", val, "--out", tmp_path / "run"
    )
    assert status == 1 and "holds labels ('high', ...)" in err and "regression" in err, err


def test_the_saved_curve_is_drawn_by_chainrule_plot(capsys, monkeypatch, files, tmp_path):
    """The validation loss curve is saved with the model and ``chainrule plot --what loss``
    draws it beside the training loss, as train's loss.png does."""
    from chainrule import plotting

    folder, _, _ = files
    bundle, _ = _train(capsys, folder, tmp_path / "run", "--epochs", "5", "--no-early-stopping")
    drawn = []
    monkeypatch.setattr(plotting, "save_figure", lambda figure, path: drawn.append(figure))
    status, _, err = call(
        capsys, "plot", tmp_path / "run", "--what", "loss", "-o", tmp_path / "l.png"
    )
    assert status == 0, err
    lines = {line.get_label(): line.get_ydata() for line in drawn[0].axes[0].lines}
    np.testing.assert_array_equal(lines["validation loss"], bundle.model.validation_loss_curve_)
    assert len(lines["validation loss"]) == len(lines["training loss"]) == 5


def test_a_torch_device_scores_the_standardised_set_there(files, monkeypatch):
    """``Standardized.fit(..., device=, X_val=)`` (``train --device``) scales the validation
    set as ``X`` and moves it to the device: its last loss is the final weights' cost there."""
    pytest.importorskip("torch")
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    from chainrule import MLPClassifier
    from chainrule.estimators import Standardized

    X, y = load_iris(return_X_y=True)
    model = MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", max_iter=4, random_state=0)
    with pytest.warns(Warning):  # max_iter reached
        bundle = Standardized.fit(model, X[::2], y[::2], device="cpu", X_val=X[1::2], y_val=y[1::2])
    assert len(model.validation_loss_curve_) == 4
    cost, bound = _cost(bundle, X[1::2], y[1::2])
    last = model.validation_loss_curve_[-1]
    assert abs(cost - last) <= 2 * bound + 8 * U * abs(last)
