"""The training loop (:func:`chainrule.training.train_epochs`) on its own: a scripted epoch runner
stands in for the engine (each epoch sets the weights and returns the loss it is told to), and
recording hooks stand in for the estimator, so that each rule of the loop is seen directly:
what an epoch records, the plateau and early-stopping rules, the schedules it applies, the
divergence guard, Ctrl-C, checkpoints and the warning at ``max_iter``."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from chainrule.optimizers import GradientDescent
from chainrule.training import (
    Diverged,
    LearningRateSchedule,
    LoopSettings,
    PlateauMonitor,
    TrainingRecord,
    train_epochs,
)


class ScriptedRunner:
    """An epoch runner whose epochs follow a script: ``(theta, loss)`` sets the weights and
    returns the loss; an exception (instance) is raised instead."""

    def __init__(self, script, n_samples=10, cost_of_untrained=42.0):
        self.net = SimpleNamespace(theta=np.zeros(2))
        self.source = SimpleNamespace(n_samples=n_samples, cost=lambda net: cost_of_untrained)
        self.script = list(script)
        self.learning_rates = []  # the optimizer's rate at the start of each epoch

    def run(self, optimizer, record):
        self.learning_rates.append(optimizer.learning_rate)
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        theta, loss = step
        self.net.theta[...] = theta
        return loss


class Hooks:
    """The estimator's part, recorded: each call in order, validation from a list."""

    def __init__(self, validation=None, stop_after=None):
        self.calls = []
        self.validation_results = list(validation) if validation is not None else None
        self.stop_after = stop_after

    def epoch_begin(self):
        self.calls.append("begin")

    def epoch_abort(self):
        self.calls.append("abort")

    def diverged(self, cost):
        self.calls.append(("diverged", cost))

    def validation(self):
        return None if self.validation_results is None else self.validation_results.pop(0)

    def epoch_end(self):
        self.calls.append("end")
        return self.stop_after is not None and self.calls.count("end") >= self.stop_after

    def checkpoint(self, finished):
        self.calls.append(("checkpoint", finished))


def setup(
    script, *, epochs=None, kind="constant", higher_is_better=False, validation=False, **rest
):
    """A runner, a record and settings for ``script``: one epoch per entry unless ``epochs``
    says otherwise; ``rest`` holds the runner's ``n_samples`` and any other loop setting."""
    n_samples = rest.pop("n_samples", 10)
    settings = rest
    runner = ScriptedRunner(script, n_samples=n_samples)
    record = TrainingRecord(
        monitor=PlateauMonitor(tol=1e-4, higher_is_better=higher_is_better),
        rng=np.random.RandomState(0),
        optimizer=GradientDescent(0.1),
        validation_scores=[] if validation else None,
        validation_loss_curve=[] if validation else None,
    )
    epochs = len(script) if epochs is None else epochs
    options = {"n_iter_no_change": 2, "tol": 1e-4, "max_iter": epochs, **settings}
    loop = LoopSettings(epochs=epochs, schedule=LearningRateSchedule(kind, 0.1), **options)
    return runner, record, loop


def theta(k):
    return np.array([k, -k], dtype=float)


def test_each_epoch_records_its_loss_and_the_samples_seen():
    runner, record, settings = setup([(theta(1), 3.0), (theta(2), 2.0), (theta(3), 1.0)])
    hooks = Hooks()
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        assert train_epochs(runner, record, settings, hooks) is False
    assert record.loss_curve == [3.0, 2.0, 1.0] and record.loss == 1.0
    assert (record.n_iter, record.t) == (3, 30)  # t_ counts samples, as scikit-learn's
    assert record.best_loss == 1.0
    assert hooks.calls == ["begin", "end"] * 3
    np.testing.assert_array_equal(runner.net.theta, theta(3))  # the last weights, not the best


def test_an_incremental_fit_does_not_warn_at_its_last_epoch():
    runner, record, settings = setup([(theta(1), 3.0)], incremental=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_epochs(runner, record, settings, Hooks())
    assert record.n_iter == 1


def test_a_plateau_stops_after_n_iter_no_change_epochs_without_improvement():
    # improvements of 1e-5 < tol count as none: stale 1, 2, 3 > n_iter_no_change = 2 stops
    losses = [1.0, 1.0 - 1e-5, 1.0 - 2e-5, 1.0 - 3e-5, 0.5, 0.4]
    runner, record, settings = setup([(theta(k), v) for k, v in enumerate(losses)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stopped early: no max_iter warning
        train_epochs(runner, record, settings, Hooks())
    assert record.n_iter == 4 and len(runner.script) == 2
    assert record.best_loss == 1.0 - 3e-5  # the best, though not better by tol


def test_an_adaptive_rate_is_divided_by_five_on_a_plateau_and_training_goes_on():
    losses = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    runner, record, settings = setup([(theta(k), v) for k, v in enumerate(losses)], kind="adaptive")
    with pytest.warns(ConvergenceWarning):
        train_epochs(runner, record, settings, Hooks())
    assert record.n_iter == 6  # not stopped: the rate went down instead
    assert runner.learning_rates == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.02, 0.02])


def test_invscaling_sets_each_epochs_rate_from_the_samples_seen():
    runner, record, settings = setup([(theta(k), 1.0 / (k + 1)) for k in range(3)], n_samples=3)
    settings.schedule = LearningRateSchedule("invscaling", 1.0, power_t=0.5)
    with pytest.warns(ConvergenceWarning):
        train_epochs(runner, record, settings, Hooks())
    # eta_t = eta_0 / (t + 1)^power_t, t = 3 samples per epoch, set after each epoch
    assert runner.learning_rates == pytest.approx([0.1, 1 / 4**0.5, 1 / 7**0.5])


def test_early_stopping_watches_the_validation_score_and_keeps_its_best_weights():
    scores = [(0.5, 9.0), (0.9, 8.0), (0.7, 7.0), (0.6, 6.0), (0.6, 5.0), (0.95, 4.0)]
    script = [(theta(k), 1.0 / (k + 1)) for k in range(6)]
    runner, record, settings = setup(
        script, higher_is_better=True, validation=True, early_stopping=True
    )
    train_epochs(runner, record, settings, Hooks(validation=scores))
    assert record.n_iter == 5  # three epochs no better than 0.9 after the second
    assert record.validation_scores == [0.5, 0.9, 0.7, 0.6, 0.6]
    assert record.validation_loss_curve == [9.0, 8.0, 7.0, 6.0, 5.0]
    assert record.best_validation_score == 0.9
    np.testing.assert_array_equal(runner.net.theta, theta(1))  # the second epoch's weights


def test_without_early_stopping_a_validation_set_is_recorded_but_the_loss_is_watched():
    scores = [(0.5, 9.0), (0.4, 8.0), (0.3, 7.0)]
    runner, record, settings = setup(
        [(theta(k), 1.0 / (k + 1)) for k in range(3)], higher_is_better=False, validation=True
    )
    with pytest.warns(ConvergenceWarning):
        train_epochs(runner, record, settings, Hooks(validation=scores))
    assert record.validation_scores == [0.5, 0.4, 0.3]
    assert record.best_loss == 1.0 / 3 and record.best_validation_score is None
    np.testing.assert_array_equal(runner.net.theta, theta(2))


def test_a_blow_up_restores_the_weights_the_epoch_began_with_and_stops():
    nan = np.full(2, np.nan)
    runner, record, settings = setup(
        [(theta(1), 1.0), (nan, 5.0), (theta(3), 0.5)], validation=True
    )
    hooks = Hooks(validation=[(0.5, 1.0)])
    assert train_epochs(runner, record, settings, hooks) is False
    np.testing.assert_array_equal(runner.net.theta, theta(1))
    assert hooks.calls == ["begin", "end", "begin", "abort", ("diverged", 5.0)]
    assert record.loss_curve == [1.0] and record.n_iter == 1
    # scikit-learn scores a blow-up NaN
    assert np.isnan(record.validation_scores[-1]) and np.isnan(record.validation_loss_curve[-1])


def test_a_runner_that_reports_divergence_is_handled_alike():
    runner, record, settings = setup([(theta(1), 1.0), Diverged(7.0)])
    hooks = Hooks()
    train_epochs(runner, record, settings, hooks)
    assert hooks.calls[-2:] == ["abort", ("diverged", 7.0)]
    np.testing.assert_array_equal(runner.net.theta, theta(1))


def test_ctrl_c_keeps_the_best_weights_so_far_and_says_so():
    runner, record, settings = setup([(theta(1), 1.0), (theta(2), 2.0), KeyboardInterrupt()])
    hooks = Hooks()
    with pytest.warns(UserWarning, match=r"interrupted after 2 epochs.*\(epoch 1\)"):
        assert train_epochs(runner, record, settings, hooks) is True
    np.testing.assert_array_equal(runner.net.theta, theta(1))
    assert hooks.calls[-1] == "abort"


def test_the_caller_may_stop_after_any_epoch():
    runner, record, settings = setup([(theta(k), 1.0 / (k + 1)) for k in range(5)])
    train_epochs(runner, record, settings, Hooks(stop_after=2))
    assert record.n_iter == 2


@pytest.mark.parametrize(
    ("losses", "expected"),
    [
        # ran out of epochs (a larger max_iter goes on): epochs 2 and 4, then unfinished
        ([1.0, 0.9, 0.8, 0.7, 0.6], [False, False, False]),
        # stopped on a plateau at epoch 4 (before its checkpoint): epoch 2, then finished
        ([1.0, 1.0, 1.0, 1.0, 1.0], [False, True]),
    ],
)
def test_checkpoints_every_k_epochs_and_once_at_the_end(losses, expected):
    runner, record, settings = setup(
        [(theta(k), v) for k, v in enumerate(losses)], checkpoint_every=2
    )
    hooks = Hooks()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        train_epochs(runner, record, settings, hooks)
    checkpoints = [call for call in hooks.calls if isinstance(call, tuple)]
    assert checkpoints == [("checkpoint", finished) for finished in expected]


def test_no_checkpoint_after_an_interrupt_or_without_checkpoint_every():
    runner, record, settings = setup([(theta(1), 1.0), KeyboardInterrupt()], checkpoint_every=1)
    hooks = Hooks()
    with pytest.warns(UserWarning, match="interrupted"):
        train_epochs(runner, record, settings, hooks)
    assert hooks.calls.count(("checkpoint", False)) == 1  # the first epoch's, none at the end
    runner, record, settings = setup([(theta(1), 1.0)])
    hooks = Hooks()
    with pytest.warns(ConvergenceWarning):
        train_epochs(runner, record, settings, hooks)
    assert not [call for call in hooks.calls if isinstance(call, tuple)]


def test_without_any_epoch_the_loss_is_the_untrained_cost():
    runner, record, settings = setup([], epochs=0, incremental=True)
    train_epochs(runner, record, settings, Hooks())
    assert record.loss == 42.0 and record.loss_curve == []


def test_verbose_prints_each_epoch_as_scikit_learn_does(capsys):
    scores = [(0.5, 2.0), (0.25, 1.5)]
    runner, record, settings = setup(
        [(theta(1), 2.0), (theta(2), 1.0)], validation=True, verbose=True, incremental=True
    )
    train_epochs(runner, record, settings, Hooks(validation=scores))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Iteration 1, loss = 2.00000000, validation score = 0.500000 (")
    assert lines[1].startswith("Iteration 2, loss = 1.00000000, validation score = 0.250000 (")
