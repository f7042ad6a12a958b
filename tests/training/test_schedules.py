"""Learning-rate schedules (chainrule.training.schedules): each formula by hand, the default
unchanged, and a fit's schedule through partial_fit, warm starts, model files and resumes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import chainrule as cr
from chainrule import MLPClassifier, MLPRegressor
from chainrule.estimators import base
from chainrule.optimizers import Adam, Momentum
from chainrule.training import LearningRateSchedule

SQRT_HALF = math.sqrt(0.5)


def rates(schedule: LearningRateSchedule, epochs: int) -> list[float]:
    return [schedule.rate(e) for e in range(epochs)]


# -- each formula by hand ---------------------------------------------------------------------


def test_linear_warm_up():
    """``eta_e = eta_0 (e + 1) / (W + 1)`` for ``e < W``, then the schedule: W = 3, eta_0 = 0.4."""
    schedule = LearningRateSchedule("constant", 0.4, warmup_epochs=3)
    assert rates(schedule, 5) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.4], rel=1e-15)


def test_cosine_annealed_once_then_held():
    """``T = 4``, eta_0 = 1, eta_min = 0.2: ``0.2 + 0.8 (1 + cos(pi k / 4)) / 2``, then 0.2."""
    schedule = LearningRateSchedule("cosine", 1.0, cosine_epochs=4, eta_min=0.2)
    by_hand = [1.0, 0.2 + 0.4 * (1 + SQRT_HALF), 0.6, 0.2 + 0.4 * (1 - SQRT_HALF), 0.2, 0.2]
    assert rates(schedule, 6) == pytest.approx(by_hand, rel=1e-15)


def test_cosine_with_warm_restarts():
    """``T_0 = 2``, ``T_mult = 2``: periods of 2, 4, 8 epochs, each starting again at eta_0."""
    schedule = LearningRateSchedule("cosine", 1.0, cosine_epochs=2, restart_mult=2, eta_min=0.1)
    half, quarter, three_quarters = 0.55, 0.1 + 0.45 * (1 + SQRT_HALF), 0.1 + 0.45 * (1 - SQRT_HALF)
    by_hand = [1.0, half, 1.0, quarter, half, three_quarters, 1.0]
    assert rates(schedule, 7) == pytest.approx(by_hand, rel=1e-15)
    every_3 = LearningRateSchedule("cosine", 1.0, cosine_epochs=3, restart_mult=1)
    assert rates(every_3, 7) == pytest.approx([1.0, 0.75, 0.25] * 2 + [1.0], rel=1e-15)


def test_cosine_after_warm_up_starts_at_eta_0():
    schedule = LearningRateSchedule("cosine", 0.3, warmup_epochs=2, cosine_epochs=2)
    assert rates(schedule, 5) == pytest.approx([0.1, 0.2, 0.3, 0.15, 0.0], rel=1e-15, abs=1e-17)


def test_step():
    """``eta_0 gamma^floor(k / s)``: s = 2, gamma = 0.5."""
    schedule = LearningRateSchedule("step", 1.0, step_epochs=2, step_factor=0.5)
    assert rates(schedule, 6) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_callable_is_a_factor_of_eta_0_counted_after_the_warm_up():
    schedule = LearningRateSchedule(lambda k: 1 / (k + 1), 0.3, warmup_epochs=1)
    assert rates(schedule, 4) == pytest.approx([0.15, 0.3, 0.15, 0.1], rel=1e-15)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.5", None])
def test_callable_must_give_a_finite_factor(bad):
    schedule = LearningRateSchedule(lambda k: bad, 0.3)
    with pytest.raises(ValueError, match=r"must return a finite number >= 0.*epoch 0"):
        schedule.rate(0)


def test_the_default_schedule_leaves_the_rate_alone():
    """scikit-learn's schedules set nothing before an epoch: the default path is today's."""
    for kind in ("constant", "invscaling", "adaptive"):
        optimizer = Momentum(0.1)
        optimizer.learning_rate = 0.0123  # as a test or an adaptive division left it
        LearningRateSchedule(kind, 0.1).before_epoch(optimizer, 7)
        assert optimizer.learning_rate == 0.0123


def test_before_epoch_sets_the_epochs_rate():
    optimizer = Adam(0.5)
    LearningRateSchedule("step", 0.5, step_epochs=1, step_factor=0.5).before_epoch(optimizer, 3)
    assert optimizer.learning_rate == 0.0625


def test_sgd_momentum_keeps_scikit_learns_form_under_a_schedule():
    """``v <- mu v - eta_e g``: the velocity carries the rates it was made with. g = 1, mu = 0.9,
    eta = 1 then 0.5: v = -1, then 0.9 (-1) - 0.5 = -1.4, so w = -1 - 1.4 = -2.4 (PyTorch's
    ``b <- mu b + g``, ``w <- w - eta_e b`` would give -1 - 0.5 * 1.9 = -1.95)."""
    theta, optimizer = np.zeros(1), Momentum(1.0, momentum=0.9)
    schedule = LearningRateSchedule("step", 1.0, step_epochs=1, step_factor=0.5)
    for epoch in range(2):
        schedule.before_epoch(optimizer, epoch)
        optimizer.step(theta, np.ones(1))
    assert theta[0] == -2.4


# -- the parameters ---------------------------------------------------------------------------


def params(**changes) -> dict:
    return {**MLPRegressor(**changes).get_params()}


def test_adam_ignores_scikit_learns_schedules_and_takes_chainrules():
    assert LearningRateSchedule.from_params(params(learning_rate="invscaling")).kind == "constant"
    schedule = LearningRateSchedule.from_params(params(learning_rate="cosine", max_iter=50))
    assert schedule.kind == "cosine" and schedule.cosine_epochs == 50
    schedule = LearningRateSchedule.from_params(
        params(solver="sgd", learning_rate="invscaling", power_t=0.25)
    )
    assert (schedule.kind, schedule.power_t, schedule.per_epoch) == ("invscaling", 0.25, False)


def test_cosine_period_is_max_iter_after_the_warm_up_or_the_restart_period():
    s = LearningRateSchedule.from_params(params(learning_rate="cosine", warmup_epochs=5))
    assert (s.cosine_epochs, s.restart_mult) == (195, None)
    s = LearningRateSchedule.from_params(
        params(learning_rate="cosine", restart_epochs=10, restart_mult=2)
    )
    assert (s.cosine_epochs, s.restart_mult) == (10, 2)


@pytest.mark.parametrize("kind", ["invscaling", "adaptive"])
def test_warm_up_refuses_scikit_learns_stateful_schedules(kind):
    X, y = np.eye(3), np.arange(3.0)
    model = MLPRegressor(solver="sgd", learning_rate=kind, warmup_epochs=2)
    with pytest.raises(ValueError, match=f"warmup_epochs=2 does not combine.*'{kind}'"):
        model.fit(X, y)


def test_cosine_needs_epochs_after_the_warm_up():
    X, y = np.eye(3), np.arange(3.0)
    model = MLPRegressor(learning_rate="cosine", warmup_epochs=5, max_iter=5)
    with pytest.raises(ValueError, match="leaves none; lower warmup_epochs or set restart_epochs"):
        model.fit(X, y)


@pytest.mark.parametrize(
    "name,value",
    [("learning_rate", "linear"), ("warmup_epochs", -1), ("restart_epochs", 0),
     ("restart_mult", 0), ("learning_rate_min", -1.0), ("step_epochs", 0), ("step_factor", 1.5),
     ("step_factor", 0.0)],
)  # fmt: skip
def test_bad_schedule_parameters_are_named(name, value):
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        MLPRegressor(**{name: value}).fit(np.eye(3), np.arange(3.0))


# -- a fit's schedule -------------------------------------------------------------------------


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def quietly(call, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return call(*args, **kwargs)


STEP = dict(learning_rate="step", step_epochs=1, step_factor=0.5, learning_rate_init=0.08)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_goes_on_with_the_schedule(solver, data):
    """Epoch ``e`` counts from the weights' initialisation: the third partial_fit is epoch 2."""
    X, y = data
    model = MLPClassifier(hidden_layer_sizes=(3,), solver=solver, random_state=0, **STEP)
    for _ in range(3):
        model.partial_fit(X, y, classes=[0, 1])
    assert model._optimizer.learning_rate == 0.08 * 0.25
    assert len(model.loss_curve_) == 3


def test_a_fit_and_a_warm_start_count_the_same_epochs(data):
    """Six epochs in one fit are three and three with warm_start (adam's moments aside, the
    rates must agree: compared on sgd without momentum)."""
    X, y = data
    kw = dict(hidden_layer_sizes=(3,), solver="sgd", momentum=0.0, random_state=0, tol=0.0,
              n_iter_no_change=np.inf, shuffle=False, **STEP)  # fmt: skip
    whole = quietly(MLPClassifier(max_iter=6, **kw).fit, X, y)
    halves = quietly(MLPClassifier(max_iter=3, warm_start=True, **kw).fit, X, y)
    quietly(halves.fit, X, y)
    assert halves._optimizer.learning_rate == whole._optimizer.learning_rate == 0.08 / 32
    np.testing.assert_allclose(halves.network_.theta, whole.network_.theta, rtol=1e-13)


def test_a_model_file_keeps_the_schedule(data, tmp_path):
    X, y = data
    model = quietly(
        MLPClassifier(
            hidden_layer_sizes=(3,), max_iter=4, learning_rate="cosine", restart_epochs=2,
            restart_mult=3, learning_rate_min=1e-5, warmup_epochs=1, random_state=0,
        ).fit, X, y,
    )  # fmt: skip
    model.save(tmp_path / "m.chainrule")
    loaded = cr.load(tmp_path / "m.chainrule")
    names = ("learning_rate", "restart_epochs", "restart_mult", "learning_rate_min")
    names += ("warmup_epochs", "step_epochs", "step_factor")
    assert {n: loaded.get_params()[n] for n in names} == {n: model.get_params()[n] for n in names}
    more = quietly(loaded.partial_fit, X, y)  # epoch 4: the second period's second epoch
    expected = 1e-5 + (1e-3 - 1e-5) * (1 + math.cos(math.pi * 1 / 6)) / 2
    assert more._optimizer.learning_rate == pytest.approx(expected, rel=1e-15)


def shrink(k: int) -> float:
    return 0.9**k


def test_a_callable_schedule_is_refused_by_model_files_by_name(data, tmp_path):
    """A model file never runs code on loading, so it cannot hold a function: saving says so
    and names the way out; a checkpointed fit says so before its first epoch."""
    X, y = data
    model = quietly(
        MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, learning_rate=shrink).fit, X, y
    )
    with pytest.raises(ValueError, match=r"learning_rate=<function shrink.*named schedule"):
        model.save(tmp_path / "m.chainrule")
    assert not (tmp_path / "m.chainrule").exists()
    checkpointed = MLPClassifier(learning_rate=shrink, checkpoint=tmp_path / "fit.ckpt")
    with pytest.raises(ValueError, match=r"learning_rate=<function shrink.*named schedule"):
        checkpointed.fit(X, y)
    assert not hasattr(checkpointed, "network_") and not (tmp_path / "fit.ckpt").exists()


class Killed(BaseException):
    """The process dies after a checkpoint (no finally-block of the fit's can save more)."""


@pytest.mark.parametrize(
    "schedule",
    [dict(learning_rate="cosine", warmup_epochs=2), dict(STEP), dict(learning_rate="cosine",
     restart_epochs=3, restart_mult=2)],
)  # fmt: skip
def test_a_resumed_fit_goes_on_with_the_schedule(schedule, data, tmp_path, monkeypatch):
    """Killed after epoch 5 of 9, resumed: the uninterrupted model, rate and weights."""
    X, y = data
    path = tmp_path / "fit.ckpt"
    kw = dict(hidden_layer_sizes=(3,), max_iter=9, random_state=0, tol=0.0, **schedule)
    whole = quietly(MLPClassifier(**kw).fit, X, y)
    original = base.write_checkpoint

    def write_then_die(path, kind, model, progress, data_fingerprint):
        original(path, kind, model, progress, data_fingerprint)
        if progress.record.n_iter == 5:
            raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(base, "write_checkpoint", write_then_die)
        with pytest.raises(Killed):
            MLPClassifier(checkpoint=path, **kw).fit(X, y)
    resumed = quietly(MLPClassifier(checkpoint=path, resume=True, **kw).fit, X, y)
    assert resumed._optimizer.learning_rate == whole._optimizer.learning_rate
    np.testing.assert_array_equal(resumed.network_.theta, whole.network_.theta)
    assert resumed.loss_curve_ == whole.loss_curve_
