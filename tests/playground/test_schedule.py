"""The playground's learning-rate schedule (chainrule.playground.schedule): the session sets
each epoch's rate, the settings check it, the derivation view shows it and its update uses it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.playground.config import default_config, update_config
from chainrule.playground.schedule import schedule_view
from chainrule.playground.session import Session


def rates_by_epoch(schedule: str, epochs: int, T: int = 4) -> list[float]:
    s = Session()
    s.configure({"schedule": schedule, "schedule_epochs": T, "learning_rate": 0.1})
    seen = []
    for _ in range(epochs):
        seen.append(s.optimizer.learning_rate)  # set when the last epoch ended
        s.train_epoch()
    return seen


def test_the_default_is_the_constant_rate():
    assert default_config()["schedule"] == "constant"
    assert rates_by_epoch("constant", 3) == [0.1, 0.1, 0.1]


def test_each_schedule_by_hand():
    """T = 4 epochs, eta_0 = 0.1: the cosine restarts, the step halves, the warm-up ramps."""
    c = 0.05 * (1 + math.cos(math.pi / 4))
    cosine = [0.1, c, 0.05, 0.1 - c, 0.1, c]
    assert rates_by_epoch("cosine", 6) == pytest.approx(cosine, rel=1e-15)
    assert rates_by_epoch("step", 9) == [0.1] * 4 + [0.05] * 4 + [0.025]
    assert rates_by_epoch("warmup", 6) == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.1, 0.1])


def test_a_change_of_schedule_or_rate_takes_effect_at_once():
    s = Session()
    for _ in range(2):
        s.train_epoch()
    s.configure({"schedule": "step", "schedule_epochs": 1})
    assert s.optimizer.learning_rate == 0.03 * 0.25
    s.configure({"learning_rate": 0.1})
    assert s.optimizer.learning_rate == 0.1 * 0.25
    s.configure({"schedule": "constant"})
    assert s.optimizer.learning_rate == 0.1


@pytest.mark.parametrize(
    "changes,message",
    [({"schedule": "linear"}, "schedule must be one of"),
     ({"schedule_epochs": 0}, r"schedule_epochs must be an integer in \[1, 1000\]"),
     ({"schedule_epochs": 2.5}, "schedule_epochs must be an integer")],
)  # fmt: skip
def test_bad_settings_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        update_config(default_config(), changes)


def test_the_derivation_view_shows_the_rate_its_update_uses():
    s = Session()
    s.configure({"schedule": "cosine", "schedule_epochs": 4})
    for _ in range(3):
        s.train_epoch()
    s.select("train", 0)
    view = s.derivation()
    rate = 0.03 * (1 + math.cos(3 * math.pi / 4)) / 2
    assert view["schedule"]["rate"] == pytest.approx(rate, rel=1e-15)
    assert view["learning_rate"] == view["schedule"]["rate"]
    assert (
        view["schedule"]["numbers"]
        == f"eta_0 = 0.03, T = 4, epoch e = 3, k = 3: eta_3 = {rate:.6g}"
    )
    # the update line: W^1 - eta_3 dC/dW^1 (plain sgd)
    layer = view["layers"][0]
    np.testing.assert_allclose(
        layer["W_new"], np.array(layer["W"]) - rate * np.array(layer["dW"]), rtol=1e-12
    )


def test_the_view_of_the_constant_rate_has_no_period():
    view = schedule_view({"schedule": "constant", "schedule_epochs": 50, "learning_rate": 0.3}, 9)
    assert view == {
        "name": "constant",
        "formula": "eta_e = eta_0",
        "numbers": "eta_0 = 0.3: eta_9 = 0.3",
        "rate": 0.3,
    }
