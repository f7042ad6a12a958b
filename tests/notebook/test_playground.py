"""The playground as a notebook widget (:mod:`chainrule.notebook.playground`), in this process (no
kernel, no browser): it trains the browser playground's session, takes its settings from its
controls, and plays on an event loop."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
from chainrule.notebook import Playground
from chainrule.notebook.playground import parse_layers
from chainrule.playground.session import Diverged, Session


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# -- the playground widget ---------------------------------------------------------------------


@pytest.fixture
def playground():
    return Playground()


def test_step_trains_the_sessions_epochs_and_draws_them(playground):
    reference = Session()  # the browser playground's session, trained the same way
    playground.step(3)
    for _ in range(3):
        reference.train_epoch()
    s = playground.session
    assert s.epoch == 3
    assert np.array_equal(s.net.theta, reference.net.theta)
    network, loss, _, colorbar = playground.figure.axes  # and the decision boundary
    assert np.array_equal(loss.lines[0].get_xdata(), [0, 1, 2, 3])  # epoch 0 is the start
    assert np.array_equal(loss.lines[0].get_ydata(), [h[1] for h in reference.history])
    assert np.array_equal(loss.lines[1].get_ydata(), [h[2] for h in reference.history])
    assert len(network.lines) == sum(W.size for W in s.net.W)
    assert colorbar.get_ylabel() == "P(y = 1)"  # xor is a classification: probabilities
    train, test = reference.history[-1][1:]
    assert playground.status.value.startswith(
        f"epoch 3 · training cost {train:.4f} · test cost {test:.4f} · test accuracy"
    )
    p = reference.net.forward(reference.inputs(reference.data.X_test))[:, 0]
    assert playground.accuracy() == np.mean((p >= 0.5) == reference.data.y_test)  # 0 or 1
    assert playground.accuracy() == reference.accuracies()[1]  # the browser page's number
    assert playground.image.value[:4] == b"\x89PNG"


def test_the_step_button_trains_one_epoch(playground):
    playground.step_button.click()
    assert playground.session.epoch == 1


def test_the_learning_rate_goes_on_from_the_same_weights(playground):
    assert playground.learning_rate.value == Session().config["learning_rate"]  # exactly
    playground.step(2)
    theta = playground.session.net.theta.copy()
    playground.learning_rate.value = 0.1
    s = playground.session
    assert s.config["learning_rate"] == pytest.approx(0.1)
    assert s.optimizer.learning_rate == pytest.approx(0.1)
    assert s.epoch == 2 and np.array_equal(s.net.theta, theta)


def test_layers_and_activation_rebuild_the_network(playground):
    playground.step(2)
    playground.layers.value = "3, 5, 2"
    s = playground.session
    assert s.net.layer_sizes == (2, 3, 5, 2, 1) and s.epoch == 0
    playground.activation.value = "relu"
    assert [a.name for a in s.net.activations] == ["relu", "relu", "relu", "sigmoid"]
    assert [spec["units"] for spec in s.config["layers"]] == [3, 5, 2]
    assert [t.get_text() for t in playground.figure.axes[0].texts][1] == "relu"
    playground.layers.value = ""
    assert s.net.layer_sizes == (2, 1)  # no hidden layer: logistic regression


@pytest.mark.parametrize(
    ("text", "message"),
    [("3, x", "whole numbers separated by commas"), ("3, 9", "layer 2 units must be")],
)
def test_a_bad_layers_text_is_refused_and_said(playground, text, message):
    playground.layers.value = text
    assert playground.session.net.layer_sizes == (2, 4, 2, 1)  # unchanged
    assert message in playground.status.value


def test_parse_layers():
    assert parse_layers("4, 2") == [4, 2] and parse_layers("4;2") == [4, 2]
    assert parse_layers("") == []
    with pytest.raises(ValueError, match="whole numbers"):
        parse_layers("-1")


def test_a_regression_data_set_draws_a_surface(playground):
    playground.dataset.value = "sine"
    s = playground.session
    assert s.data.task == "regression" and s.net.activations[-1].name == "identity"
    assert playground.accuracy() is None
    assert "accuracy" not in playground.status.value
    assert playground.figure.axes[3].get_ylabel() == "prediction"


def test_reset_draws_new_weights(playground):
    playground.step(2)
    theta = playground.session.net.theta.copy()
    playground.reset_button.click()
    assert playground.session.epoch == 0
    assert not np.array_equal(playground.session.net.theta, theta)


def test_play_trains_on_the_event_loop_until_pause(playground):
    """Play starts a task on the running loop (a kernel's); the loop stays free between frames
    (this coroutine runs on), and pause stops it."""
    playground.interval = 0.01
    playground.speed.value = 2

    async def session():
        playground.play()
        assert playground.play_button.description == "pause"
        while playground.session.epoch < 4:
            await asyncio.sleep(0.01)  # the loop is free while playing
        playground.pause()
        await asyncio.wait_for(playground.task, 30)

    asyncio.run(session())
    assert playground.task.done()
    epochs = playground.session.epoch
    assert epochs >= 4 and epochs % 2 == 0  # whole frames of two epochs
    assert playground.play_button.description == "play"


def test_play_without_an_event_loop_says_to_step(playground):
    playground.play()
    assert playground.play_button.value is False
    assert "running event loop" in playground.status.value


def test_a_divergence_pauses_and_is_said(playground, monkeypatch):
    def diverge():
        raise Diverged("training diverged in epoch 1: lower the learning rate")

    monkeypatch.setattr(playground.session, "train_epoch", diverge)
    playground.play_button.value = True  # as if playing (no loop needed for one step)
    playground.play_button.value = False
    playground.step()
    assert "lower the learning rate" in playground.status.value
    assert playground.play_button.value is False


def test_an_error_while_playing_stops_and_is_said(playground, monkeypatch):
    def broken():
        raise RuntimeError("out of cheese")

    monkeypatch.setattr(playground.session, "train_epoch", broken)

    async def session():
        playground.play()
        with pytest.raises(RuntimeError, match="out of cheese"):
            await asyncio.wait_for(playground.task, 30)

    asyncio.run(session())
    assert playground.play_button.value is False
    assert "out of cheese" in playground.status.value
