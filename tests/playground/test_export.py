"""The playground's exports: the model file and the script that trains on as the page."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.playground import config as pg_config
from chainrule.playground import data as pg_data
from chainrule.playground.export import model_bytes, script
from chainrule.playground.session import Session


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
        {"solver": "gradient_descent"},
        {"solver": "nesterov", "layers": [pg_config.layer(3, "sigmoid", 2.0)]},
        {"solver": "adam", "alpha": 0.01},
        {"dataset": "sine", "cost": "huber", "features": ["x1", "sin(x2)"], "layers": []},
        {"solver": "momentum", "schedule": "cosine", "schedule_epochs": 3},
        {"solver": "adam", "schedule": "step", "schedule_epochs": 1},
        {"layers": [pg_config.layer(4, dropout=0.5), pg_config.layer(3, "relu", dropout=0.2)]},
    ],
)
def test_exported_script_rebuilds_the_network_and_trains_on_as_the_page(
    tmp_path, changes, run_script
):
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


def test_exported_script_finishes_an_epoch_under_way_with_its_dropout_masks(tmp_path, run_script):
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


def test_exported_script_of_an_upload_reads_the_csv_and_trains_on(tmp_path, capsys, run_script):
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
