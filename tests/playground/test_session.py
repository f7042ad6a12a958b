"""The playground's pieces without a server: data, settings, training, derivation, export."""

from __future__ import annotations

import argparse
import importlib
import runpy

import numpy as np
import pytest

import chainrule as cr
from chainrule.playground import config as pg_config
from chainrule.playground import data as pg_data
from chainrule.playground.derivation import derive
from chainrule.playground.export import model_bytes, script
from chainrule.playground.session import Diverged, Session


@pytest.mark.parametrize("name", [*pg_data.CLASSIFICATION_SETS, *pg_data.REGRESSION_SETS])
def test_datasets_lie_in_the_square_and_split_by_ratio(name):
    d = pg_data.make_dataset(name, n_samples=120, noise=0.1, train_ratio=0.3, seed=1)
    assert len(d.y_train) == 36 and len(d.y_test) == 84
    X = np.vstack([d.X_train, d.X_test])
    assert np.all(np.abs(X) < 8)
    if name in pg_data.CLASSIFICATION_SETS:
        assert d.task == "classification" and set(np.unique(d.y_train)) <= {0.0, 1.0}
    else:
        assert d.task == "regression" and np.all(np.abs(d.y_train) <= 1.0 + 1e-12)
    again = pg_data.make_dataset(name, n_samples=120, noise=0.1, train_ratio=0.3, seed=1)
    np.testing.assert_array_equal(again.X_train, d.X_train)


def test_xor_labels_are_one_where_the_signs_differ():
    d = pg_data.make_dataset("xor", n_samples=200, seed=0)
    np.testing.assert_array_equal(d.y_train, (d.X_train[:, 0] * d.X_train[:, 1] < 0))


def test_features_are_the_named_functions_of_the_points():
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    A = pg_data.make_features(X, list(pg_data.FEATURES))
    expected = [X[:, 0], X[:, 1], X[:, 0] ** 2, X[:, 1] ** 2, X[:, 0] * X[:, 1]]
    expected += [np.sin(X[:, 0]), np.sin(X[:, 1])]
    np.testing.assert_allclose(A, np.column_stack(expected))
    with pytest.raises(ValueError, match="features must be"):
        pg_data.make_features(X, ["x3"])


def test_csv_classification_and_regression_are_scaled():
    X, y, task = pg_data.parse_csv("a,b,label\n0,10,3\n1,20,5\n2,30,3\n")
    assert task == "classification"
    np.testing.assert_array_equal(y, [0, 1, 0])
    np.testing.assert_allclose(X[:, 0], [-6, 0, 6])
    X, y, task = pg_data.parse_csv(b"1,1,0.5\n2,2,1.5\n3,3,2.5\n")
    assert task == "regression"
    np.testing.assert_allclose(y, [-1, 0, 1])


def test_a_header_and_the_most_rows_allowed_are_read():
    X, y, _ = pg_data.parse_csv("a,b,c\n" + "1,2,0\n3,4,1\n" * (pg_data.MAX_CSV_ROWS // 2))
    assert X.shape == (pg_data.MAX_CSV_ROWS, 2) and y.sum() == pg_data.MAX_CSV_ROWS // 2


def test_csv_values_near_the_float_range_are_scaled_without_overflow():
    X, y, task = pg_data.parse_csv("-1e308,5,-1.5e308\n1e308,5,1.5e308\n0,5,0\n")
    assert task == "regression"
    np.testing.assert_allclose(X, [[-6, -6], [6, -6], [0, -6]])
    np.testing.assert_allclose(y, [-1, 1, 0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * (pg_data.MAX_CSV_BYTES + 1), "up to 1 MB"),
        ("1,2,0\n" * (pg_data.MAX_CSV_ROWS + 1), "at most 10000"),
        ("1\n" * 499_999, "more than 10000 rows"),
        ("1,2\n3,4\n", "exactly 3"),
        ("1,2,0\n1,x,1\n", "row 2, column 2 is 'x'"),
        ("1,2,0\n1,nan,1\n", "not a finite number"),
        ("1,2,0\n", "fewer than 2 rows"),
        ("1,2,0\n1,2," + "7" * 200_000 + "\n", "cannot be read: field larger"),
    ],
)
def test_bad_csv_is_refused_with_a_clear_message(text, message):
    with pytest.raises(ValueError, match=message):
        pg_data.parse_csv(text)


def test_config_refuses_bad_values_naming_the_setting():
    c = pg_config.default_config()
    for changes, message in [
        ({"learning_rate": 0}, "learning_rate"),
        ({"batch_size": 2.5}, "batch_size must be an integer"),
        ({"solver": "lbfgs"}, "solver must be one of"),
        ({"layers": [{"units": 9}]}, "layer 1 units"),
        ({"layers": [{"units": 2, "activation": "softmax"}]}, "layer 1 activation"),
        ({"features": []}, "features"),
        ({"dataset": "upload"}, "dataset must be one of"),
        ({"bogus": 1}, "unknown setting 'bogus'"),
        ({"noise": True}, "noise"),
        ({"cost": "huber"}, "cost must be one of"),
    ]:
        with pytest.raises(ValueError, match=message):
            pg_config.update_config(c, changes)
    assert c == pg_config.default_config()  # unchanged
    regression = pg_config.update_config(c, {"dataset": "plane"})
    assert regression["cost"] == "squared_error"  # the classification cost no longer fits


def test_a_session_trains_xor_with_every_solver():
    for solver, rate in [("sgd", 0.1), ("momentum", 0.03), ("nesterov", 0.03), ("adam", 0.03)]:
        s = Session()
        s.configure({"solver": solver, "learning_rate": rate})
        start = s.losses()[0]
        for _ in range(40):
            s.train_epoch()
        assert s.losses()[0] < 0.6 * start, solver
        assert s.history[-1][0] == s.epoch == 40


def test_a_huge_learning_rate_reports_divergence():
    s = Session()
    s.configure({"dataset": "plane", "layers": [pg_config.layer(8, "relu")] * 3})
    s.configure({"features": ["x1^2", "x2^2", "x1*x2"], "learning_rate": 10.0})
    with pytest.raises(Diverged, match="lower the learning rate"):
        for _ in range(50):
            theta, epoch = s.net.theta.copy(), s.epoch
            s.train_epoch()
    np.testing.assert_array_equal(s.net.theta, theta)  # back where the epoch began
    assert s.epoch == epoch and np.isfinite(s.losses()[0])
    s.configure({"learning_rate": 1e-4})
    s.train_epoch()  # goes on from there
    assert s.epoch == epoch + 1


def test_settings_that_keep_the_weights_keep_them():
    s = Session()
    for _ in range(3):
        s.train_epoch()
    theta = s.net.theta.copy()
    s.configure({"alpha": 0.1, "learning_rate": 0.1, "solver": "adam"})
    np.testing.assert_array_equal(s.net.theta, theta)
    assert s.epoch == 3 and s.net.alpha == 0.1 and isinstance(s.optimizer, cr.Adam)
    s.configure({"layers": [pg_config.layer(3, "sigmoid", 2.0)]})
    assert s.epoch == 0 and s.net.layer_sizes == (2, 3, 1)
    assert s.net.activations[0].beta == 2.0


def test_the_derivation_is_backprop_of_one_sample_and_one_update():
    s = Session()
    s.configure({"alpha": 0.01, "solver": "sgd", "learning_rate": 0.1})
    for _ in range(2):
        s.train_epoch()
    a0 = s.inputs(s.data.X_train[5:6])
    y = s.data.y_train[5]
    view = derive(s.net, s.optimizer, "sgd", a0[0], y)
    trace = s.net.backprop(a0, np.array([[y]]))
    for m, layer in enumerate(view["layers"]):
        np.testing.assert_allclose(layer["z"], trace.z[m][0])
        np.testing.assert_allclose(layer["a"], trace.a[m + 1][0])
        np.testing.assert_allclose(layer["delta"], trace.delta[m][0])
        np.testing.assert_allclose(layer["dW"], trace.dW[m])
        # dC/dW^m = delta^m a^(m-1)T + alpha W^m (one sample: n = 1)
        np.testing.assert_allclose(
            layer["dW"], np.outer(layer["delta"], layer["a_prev"]) + 0.01 * s.net.W[m]
        )
        np.testing.assert_allclose(layer["W_new"], s.net.W[m] - 0.1 * trace.dW[m])
        if m + 1 < s.net.L:  # delta^m = (W^(m+1)T delta^(m+1)) o sigma'(z^m)
            np.testing.assert_allclose(
                layer["delta"], np.array(layer["backsum"]) * layer["sigma_prime"]
            )
    assert view["canonical"]  # sigmoid output with binary cross-entropy: delta^L = a^L - y
    np.testing.assert_allclose(view["layers"][-1]["delta"], view["layers"][-1]["a"][0] - y)


def test_the_derivation_leaves_the_optimizer_alone():
    s = Session()
    s.configure({"solver": "adam"})
    s.train_epoch()
    t, theta = s.optimizer.t, s.net.theta.copy()
    derive(s.net, s.optimizer, "adam", s.inputs(s.data.X_train[:1])[0], s.data.y_train[0])
    assert s.optimizer.t == t
    np.testing.assert_array_equal(s.net.theta, theta)


def test_exported_model_file_loads_as_the_trained_network(tmp_path):
    s = Session()
    s.train_epoch()
    path = tmp_path / "m.crm"
    path.write_bytes(model_bytes(s.net))
    net = cr.load(path)
    A = s.inputs(s.data.X_test)
    np.testing.assert_array_equal(net.forward(A), s.net.forward(A))


@pytest.mark.parametrize(
    "changes",
    [
        {"solver": "sgd"},
        {"solver": "nesterov", "layers": [pg_config.layer(3, "sigmoid", 2.0)]},
        {"solver": "adam", "alpha": 0.01},
        {"dataset": "sine", "cost": "huber", "features": ["x1", "sin(x2)"], "layers": []},
        {"solver": "momentum", "schedule": "cosine", "schedule_epochs": 3},
        {"solver": "adam", "schedule": "step", "schedule_epochs": 1},
        {"layers": [pg_config.layer(4, dropout=0.5), pg_config.layer(3, "relu", dropout=0.2)]},
    ],
)
def test_exported_script_rebuilds_the_network_and_trains_on_as_the_page(tmp_path, changes):
    """The script holds the weights at export (so a learning rate changed during the run is in
    them), the optimizer's state and the shuffling's: its network is the page's bit for bit,
    and so are the next epochs (the same operations on the same numbers)."""
    s = Session()
    s.configure(changes | {"n_samples": 60})
    for _ in range(3):
        s.train_epoch()
    s.configure({"learning_rate": 0.1, "batch_size": 7})
    s.train_epoch()
    source = script(s)
    module = run_script(tmp_path, source, run_name="exported")
    np.testing.assert_array_equal(module["net"].theta, s.net.theta)
    for _ in range(2):
        s.train_epoch()
        module["train_epoch"]()
    np.testing.assert_array_equal(module["net"].theta, s.net.theta)


def test_exported_script_finishes_an_epoch_under_way_with_its_dropout_masks(tmp_path):
    """Exported mid-epoch, the script carries the epoch's dropout key and the rest of its order:
    its next minibatches draw the page's masks (a script that trained without masks, or with a
    fresh key, would part from the page at the first step)."""
    s = Session()
    s.configure({"n_samples": 60, "batch_size": 5, "layers": [pg_config.layer(4, dropout=0.5)]})
    s.train_epoch()
    s.train_minibatch()
    module = run_script(tmp_path, script(s), run_name="exported")
    assert module["key"] == s.dropout_key is not None
    for _ in range(2):
        s.train_epoch()
        module["train_epoch"]()
    np.testing.assert_array_equal(module["net"].theta, s.net.theta)


def run_script(tmp_path, source: str, run_name: str = "__main__", argv=("retrain.py",)) -> dict:
    """Run an exported script as ``python retrain.py ARGS`` would, in ``tmp_path``."""
    (tmp_path / "retrain.py").write_text(source)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        patch.setattr("sys.argv", list(argv))
        return runpy.run_path(str(tmp_path / "retrain.py"), run_name=run_name)


def test_exported_script_of_an_upload_reads_the_csv_and_trains_on(tmp_path, capsys):
    rows = "".join(f"{i},{i % 7},{i % 2}\n" for i in range(40))
    (tmp_path / "mine.csv").write_text("x,y,t\n" + rows)
    s = Session()
    s.use_upload("mine.csv", *pg_data.parse_csv((tmp_path / "mine.csv").read_text()))
    s.train_epoch()
    run_script(tmp_path, script(s), argv=("retrain.py", "2"))
    out = capsys.readouterr().out
    assert f"epoch 1: training cost {s.losses()[0]:.4g}" in out and "epoch 3:" in out
    for _ in range(2):
        s.train_epoch()
    np.testing.assert_array_equal(cr.load(tmp_path / "playground-model.crm").theta, s.net.theta)


def _command():
    return importlib.import_module("chainrule.cli.playground")


def test_command_parses_its_options_and_calls_serve(monkeypatch):
    cmd = _command()
    assert cmd.NAME == "playground" and cmd.HELP
    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.no_browser) == ("127.0.0.1", 8000, False)
    calls = []
    monkeypatch.setattr("chainrule.playground.serve", lambda *a, **k: calls.append((a, k)))
    args = parser.parse_args(["--port", "0", "--no-browser", "--host", "::1"])
    assert cmd.run(args) == 0
    assert calls == [(("::1", 0), {"open_browser": False})]
    with pytest.raises(ValueError, match="--port must be in"):
        cmd.run(parser.parse_args(["--port", "70000"]))


def test_dead_and_saturated_units_are_named():
    """A ReLU unit with sigma'(z) = 0 on every training point is dead; a steep sigmoid unit
    with sigma'(z) under 1% of its peak on 95% of the points is saturated."""
    from chainrule.playground.views import unit_warnings

    s = Session()
    s.configure({"layers": [pg_config.layer(2, "relu")]})
    A0 = s.inputs(s.data.X_train)
    s.net.W[0][...] = [[1.0, 0.0], [0.0, 0.0]]
    s.net.b[0][...] = [0.5, -1.0]  # unit 2: z = -1 on every point
    (dead,) = unit_warnings(s.net, A0)
    assert (dead["kind"], dead["layer"], dead["units"]) == ("dead", 1, [1])
    assert "layer 1: unit 2 dead" in dead["text"]
    s.configure({"layers": [pg_config.layer(2, "sigmoid", beta=25.0)]})
    s.net.W[0][...] = [[5.0, 0.0], [0.0, 0.01]]
    s.net.b[0][...] = 0.0
    (flat,) = unit_warnings(s.net, A0)
    # unit 1: beta z = 125 x1, flat wherever |x1| > 0.06; unit 2: beta z = 0.25 x2, never flat
    assert np.mean(np.abs(A0[:, 0]) > 0.06) > 0.95
    assert (flat["kind"], flat["layer"], flat["units"]) == ("saturated", 1, [0])
    assert unit_warnings(s.net, A0, (0.5, np.inf))[0]["kind"] == "overflow"


def test_the_snapshot_carries_exact_weights_and_tiny_gradients():
    """A converged network's |dC/dW| of 1e-11 are sent as they are, not rounded to 0."""
    s = Session()
    s.train_epoch()
    dW = [g * 1e-9 for g in s.last_grads[0]]
    s.last_grads = (dW, s.last_grads[1])
    snap = s.snapshot()
    for m in range(s.net.L):
        np.testing.assert_array_equal(snap["dW"][m], np.abs(dW[m]))
        np.testing.assert_array_equal(snap["W"][m], s.net.W[m])


def test_csv_labels_such_as_yes_and_no_classify_and_a_constant_target_is_refused():
    _, y, task, classes = pg_data.parse_csv_classes("a,b,buys\n1,2,yes\n3,4,no\n5,6,yes\n")
    assert (task, classes) == ("classification", ["no", "yes"])
    np.testing.assert_array_equal(y, [1, 0, 1])
    with pytest.raises(ValueError, match="'3' in every row: there is nothing to learn"):
        pg_data.parse_csv("1,2,3\n3,4,3\n5,6,3\n")
    with pytest.raises(ValueError, match="3 different labels"):
        pg_data.parse_csv("1,2,a\n3,4,b\n5,6,c\n")


def test_minibatch_steps_make_up_the_epoch_and_the_export_finishes_it(tmp_path):
    """Minibatch by minibatch is the epoch (the same weights, bit for bit); a script exported
    in the middle of an epoch finishes it as the page would."""
    a, b = Session(), Session()
    a.train_epoch()
    steps = 0
    while not b.train_minibatch():
        steps += 1
        assert b.epoch == 0 and b.snapshot()["minibatch"] == steps
    assert steps + 1 == b.snapshot()["minibatches"] == 10  # 100 points, 10 a minibatch
    np.testing.assert_array_equal(a.net.theta, b.net.theta)
    for _ in range(3):
        b.train_minibatch()
    module = run_script(tmp_path, script(b), run_name="exported")
    b.train_epoch()
    module["train_epoch"]()
    assert b.epoch == 2
    np.testing.assert_array_equal(module["net"].theta, b.net.theta)


def test_accuracy_is_the_share_classified_right():
    s = Session()
    train, test = s.accuracies()
    out = s.net.forward(s.inputs(s.data.X_test))[:, 0]
    assert test == np.mean((out >= 0.5) == s.data.y_test) and 0 <= train <= 1
    s.configure({"dataset": "sine"})
    assert s.accuracies() is None


def test_the_gradient_check_says_good_for_backprop_and_wrong_for_a_wrong_gradient():
    from chainrule.playground import derivation

    s = Session()
    s.train_epoch()
    s.select("train", 3)
    theta = s.net.theta.copy()
    report = s.gradient_check()
    assert report["verdict"] == "good" and report["relative_error"] < 1e-6
    assert np.array_equal(s.net.theta, theta)  # every weight put back exactly
    assert report["parameters"] == s.net.theta.size

    class Wrong(type(s.net)):
        def backprop(self, X, Y, sample_weight=None):
            trace = super().backprop(X, Y, sample_weight)
            trace.dW[0] *= 1.01  # 1% off in one layer
            return trace

    wrong = s.net.copy()
    wrong.__class__ = Wrong
    report = derivation.gradient_check(wrong, s.inputs(s.data.X_train[3:4])[0], s.data.y_train[3])
    assert report["verdict"] == "wrong" and report["relative_error"] > 1e-3


@pytest.mark.parametrize("solver", ["momentum", "adam"])
def test_the_update_line_carries_the_optimizers_state(solver):
    """Momentum: v <- mu v - eta g, W <- W + v. Adam: t, 1 - b1^t, 1 - b2^t, m, v and
    eta_t = eta sqrt(1 - b2^t) / (1 - b1^t), each by hand from the state before the step."""
    s = Session()
    s.configure({"solver": solver})
    for _ in range(2):
        s.train_epoch()
    s.select("train", 0)
    view = s.derivation()
    layer = view["layers"][0]
    state = layer["optimizer_state"]
    g, eta = np.array(layer["dW"]), view["learning_rate"]
    if solver == "momentum":
        v = 0.9 * np.array(state["velocity_before"]["W"]) - eta * g
        np.testing.assert_allclose(state["velocity"]["W"], v, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer["W_step"], v, rtol=1e-9, atol=1e-15)
    else:
        rule = view["optimizer"]
        t = s.optimizer.t + 1
        assert rule["t"] == t and rule["correction_1"] == pytest.approx(1 - 0.9**t, rel=1e-14)
        m = 0.9 * np.array(state["m_before"]["W"]) + 0.1 * g
        v = 0.999 * np.array(state["v_before"]["W"]) + 0.001 * g**2
        np.testing.assert_allclose(state["m"]["W"], m, rtol=1e-12, atol=1e-18)
        np.testing.assert_allclose(state["v"]["W"], v, rtol=1e-12, atol=1e-18)
        eta_t = eta * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        assert rule["step_size"] == pytest.approx(eta_t, rel=1e-14)
        np.testing.assert_allclose(layer["W_step"], -eta_t * m / (np.sqrt(v) + 1e-8), rtol=1e-9)


def test_l1_and_weight_decay_in_the_derivation_and_the_exported_script(tmp_path):
    """An L1 share changes the network's penalty (same weights), weight decay the optimizer;
    one sample's dW^m gains alpha_2 W + alpha_1 sign(W) and its sgd update is
    W <- (1 - eta lambda) W - eta dW (n = 1); the exported script trains on as the page."""
    s = Session()
    s.configure({"n_samples": 60, "alpha": 0.1, "solver": "sgd", "learning_rate": 0.1})
    s.train_epoch()
    theta = s.net.theta.copy()
    s.configure({"l1_ratio": 0.25, "weight_decay": 0.5})
    np.testing.assert_array_equal(s.net.theta, theta)
    assert s.net.l1_ratio == 0.25 and s.optimizer.weight_decay == 0.5
    a0, y = s.inputs(s.data.X_train[3:4]), s.data.y_train[3]
    view = derive(s.net, s.optimizer, "sgd", a0[0], y)
    assert view["l1_ratio"] == 0.25 and view["weight_decay"] == 0.5
    for m, layer in enumerate(view["layers"]):
        W = s.net.W[m]
        data_term = np.outer(layer["delta"], layer["a_prev"])
        # alpha_2 = 0.1 * 0.75, alpha_1 = 0.1 * 0.25
        np.testing.assert_allclose(layer["dW"], data_term + 0.075 * W + 0.025 * np.sign(W))
        np.testing.assert_allclose(
            layer["W_new"], (1 - 0.1 * 0.5) * W - 0.1 * np.array(layer["dW"])
        )
        np.testing.assert_allclose(layer["b_new"], s.net.b[m] - 0.1 * np.array(layer["db"]))
    s.train_epoch()
    module = run_script(tmp_path, script(s), run_name="exported")
    np.testing.assert_array_equal(module["net"].theta, s.net.theta)
    s.train_epoch()
    module["train_epoch"]()
    np.testing.assert_array_equal(module["net"].theta, s.net.theta)


def test_dropout_per_layer_trains_through_the_masks_and_is_shown_in_the_derivation():
    from chainrule.engine.reference import dropout_masks

    session = Session()
    layers = [
        {**spec, "dropout": p} for spec, p in zip(session.config["layers"], (0.5, 0.0), strict=True)
    ]
    session.configure({"layers": layers, "solver": "sgd"})
    assert session.net.dropout == (0.5, 0.0)
    before = session.net.copy()
    session.train_minibatch()  # the epoch's first step: its key from the session's seed
    key = session.dropout_key
    assert key is not None
    batch = session.order[: session.cursor]
    X, y = session.inputs(session.data.X_train[batch]), session.data.y_train[batch]
    n = len(batch)
    masks = dropout_masks((0.5, 0.0), key, 0, before.layer_sizes, n, before.theta)
    _, grad = before.batch_cost_and_gradient(X, y.reshape(n, 1).astype(float), np.full(n, 1 / n),
                                             float(n), None, masks)  # fmt: skip
    plain = before.copy()
    plain.theta -= session.config["learning_rate"] * before.cost_and_gradient(X, y)[1]
    before.theta -= session.config["learning_rate"] * grad
    np.testing.assert_array_equal(session.net.theta, before.theta)
    assert not np.allclose(session.net.theta, plain.theta)  # the mask dropped units
    derivation = derive(session.net, session.optimizer, "sgd", X[0], float(y[0]))
    assert [L["dropout"] for L in derivation["layers"]] == [0.5, 0.0, 0.0]
    with pytest.raises(ValueError, match="layer 1 dropout"):
        session.configure({"layers": [{**layers[0], "dropout": 1.0}]})
