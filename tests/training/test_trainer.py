"""The fit object: :class:`chainrule.training.Trainer` trains without an estimator, and the
estimators' fits are exactly its fits; the one best-of-restarts rule; ``n_init`` restarts as
joblib tasks (in memory): the same runs, splits and best run as the in-process loop, with or
without early stopping, whatever runs the tasks."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pytest
from joblib.parallel import ThreadingBackend
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from chainrule import MLPClassifier, MLPRegressor, Network
from chainrule.estimators.base import BaseMLP
from chainrule.training import (
    FitSettings,
    InMemoryData,
    LearningRateSchedule,
    Trainer,
    best_run,
    make_optimizer,
    restart_generators,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FITTED = ("loss_", "loss_curve_", "n_iter_", "best_run_")
EARLY = ("validation_scores_", "best_validation_score_", "validation_loss_curve_")


def settings(**changes) -> FitSettings:
    values = dict(
        solver="adam",
        max_iter=5,
        max_fun=15000,
        tol=1e-4,
        n_iter_no_change=10,
        verbose=False,
        schedule=LearningRateSchedule("constant", 0.01),
        batch_size="auto",
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
    )
    return FitSettings(**{**values, **changes})


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_trainer_fits_without_an_estimator_as_the_estimator_does(early_stopping):
    """The same data, initial weights (assigned before the fit, so nothing is drawn for
    them), settings and generator give the estimator's weights and curves bit for bit: the
    estimator adds nothing to the training, it hands over and publishes."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.normal(size=300)
    start = Network([4, 6, 1], activation="relu", alpha=1e-4, random_state=0)
    reg = MLPRegressor(
        hidden_layer_sizes=(6,),
        max_iter=5,
        learning_rate_init=0.01,
        random_state=3,
        early_stopping=early_stopping,
        warm_start=True,  # the weights assigned below are the initial ones
    )
    reg.coefs_ = [W.T.copy() for W in start.W]
    reg.intercepts_ = [b.copy() for b in start.b]
    trainer = Trainer(
        InMemoryData(X, y.reshape(-1, 1), np.ones(300), y),
        settings(early_stopping=early_stopping),
        build_network=lambda generator: start.copy(),
        make_optimizer=lambda: make_optimizer("adam", learning_rate_init=0.01),
        score=_r2_and_loss,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        reg.fit(X, y)
        result = trainer.fit(restart_generators(3, 1))
    np.testing.assert_array_equal(result.net.theta, reg.network_.theta)
    assert result.record.loss_curve == reg.loss_curve_
    assert result.record.validation_scores == getattr(reg, "validation_scores_", None)


def _r2_and_loss(net, held_out):
    from sklearn.metrics import r2_score

    w = held_out.sw / held_out.sw.sum()
    loss = net.batch_cost(held_out.X, held_out.Y, w, float(held_out.sw.sum()))
    out = net.forward(held_out.X, validate=False).ravel()
    return float(r2_score(held_out.y, out, sample_weight=held_out.sw)), loss


def test_best_run_is_the_highest_criterion_first_of_equals():
    assert best_run([1.0, 3.0, 2.0]) == 1
    assert best_run([2.0, 2.0, 1.0]) == 0  # the first of equals
    assert best_run([1.0, float("nan"), 0.5]) == 0  # a NaN never replaces an earlier run
    assert best_run([-1.0]) == 0


@pytest.mark.parametrize("Model", [MLPClassifier, MLPRegressor])
def test_the_estimators_keep_the_trainers_best_run(Model):
    """``best_run_`` is the run with the best criterion (the lowest final loss here) of the
    same runs fitted one by one with ``n_init=1`` and each run's generator."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = (X[:, 0] > 0).astype(int) if Model is MLPClassifier else X[:, 0] * X[:, 1]
    params = dict(hidden_layer_sizes=(3,), max_iter=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = Model(**params, n_init=3, random_state=5).fit(X, y)
        runs = [
            Model(**params, random_state=generator).fit(X, y)
            for generator in restart_generators(5, 3)
        ]
    losses = [run.loss_ for run in runs]
    assert fitted.best_run_ == best_run([-loss for loss in losses])
    np.testing.assert_array_equal(fitted.network_.theta, runs[fitted.best_run_].network_.theta)


@pytest.fixture(scope="module")
def data():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X, {MLPClassifier: y, MLPRegressor: X[:, 0] * X[:, 1] + y}


def params(**extra):
    return {"hidden_layer_sizes": (4,), "max_iter": 12, "n_iter_no_change": 3, "n_init": 3, **extra}


def in_process(monkeypatch, fit):
    """``fit()`` with the restarts run by the in-process loop."""
    with monkeypatch.context() as m:
        m.setattr(BaseMLP, "_restarts_apply", lambda self: False)
        return fit()


def assert_same_fit(a, b, names=FITTED + EARLY):
    np.testing.assert_array_equal(a.network_.theta, b.network_.theta)
    for name in names:
        assert getattr(a, name) == getattr(b, name), name


def random_states():
    return {
        "int": lambda: 3,
        "RandomState": lambda: np.random.RandomState(5),
        "Generator": lambda: np.random.default_rng(7),
    }


@pytest.mark.parametrize("kind", list(random_states()))
@pytest.mark.parametrize("Model", [MLPClassifier, MLPRegressor])
def test_early_stopping_restarts_as_tasks_equal_the_in_process_loop(data, monkeypatch, Model, kind):
    X, targets = data
    state = random_states()[kind]

    def fit():
        return Model(**params(early_stopping=True, random_state=state())).fit(X, targets[Model])

    model = Model(**params(early_stopping=True))
    assert model._restarts_apply()  # the joblib path is the one under test
    tasks, loop = fit(), in_process(monkeypatch, fit)
    assert_same_fit(tasks, loop)
    # the split handed to the runs stays private: not a parameter, not kept after the fit
    assert tasks.get_params() == model.set_params(random_state=tasks.random_state).get_params()
    assert not {"_restart_split", "_split_indices", "_split_rng"} & set(vars(tasks))


def test_a_restart_other_than_run_0_can_win_with_early_stopping(data):
    """The seeds above are not all won by run 0, so a run ``k > 0`` that drew its own split (or
    drew from its generator for it) would show in the comparison."""
    X, targets = data
    for Model, seed in ((MLPClassifier, 3), (MLPRegressor, 3)):
        model = Model(**params(early_stopping=True, random_state=seed)).fit(X, targets[Model])
        assert model.best_run_ > 0


def test_every_restart_holds_out_run_0s_split(data, monkeypatch):
    X, targets = data
    held_out = []
    divide = InMemoryData.divide

    def recording(self, split):
        held_out.append(split[1].tolist())
        return divide(self, split)

    monkeypatch.setattr(InMemoryData, "divide", recording)
    clf = MLPClassifier(**params(early_stopping=True, random_state=0))
    in_process(monkeypatch, lambda: clf.fit(X, targets[MLPClassifier]))
    assert len(held_out) == 1  # the loop draws the split once, in run 0, for every run
    single = MLPClassifier(**params(early_stopping=True, random_state=0, n_init=1))
    single.fit(X, targets[MLPClassifier])
    clf.fit(X, targets[MLPClassifier])  # joblib tasks: each divides the split it is handed
    assert len(held_out) >= 3 and all(h == held_out[0] for h in held_out)


class CountingBackend(ThreadingBackend):
    """joblib's threading backend, noting the name of every task it runs."""

    tasks: list[str] = []

    def submit(self, func, callback=None):
        CountingBackend.tasks += [f.__name__ for f, _, _ in func.items]
        return super().submit(func, callback)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_restarts_are_joblib_tasks(data, monkeypatch, early_stopping):
    X, targets = data
    joblib.register_parallel_backend("counting", CountingBackend)
    CountingBackend.tasks = []
    kw = params(early_stopping=early_stopping, random_state=1)
    with joblib.parallel_config(backend="counting", n_jobs=2):
        spread = MLPClassifier(**kw).fit(X, targets[MLPClassifier])
    assert CountingBackend.tasks == ["_run_task"] * 3
    loop = in_process(monkeypatch, lambda: MLPClassifier(**kw).fit(X, targets[MLPClassifier]))
    assert_same_fit(spread, loop, FITTED + (EARLY if early_stopping else ()))


def test_callbacks_and_checkpoints_keep_the_in_process_loop(data, tmp_path):
    """A fit with callbacks runs the restarts in this process (the callbacks report here), to
    the same result as the tasks."""
    from sklearn.callback import ScoringMonitor

    X, targets = data
    kw = params(early_stopping=True, random_state=3)
    assert not MLPClassifier(**kw, checkpoint=tmp_path / "ck")._restarts_apply()
    monitor = ScoringMonitor(scoring="accuracy")
    watched = MLPClassifier(**kw).set_callbacks(monitor)
    assert not watched._restarts_apply()
    watched.fit(X, targets[MLPClassifier])
    epochs = [r for r in monitor.get_logs().data if r.get("task_name") == "epoch"]
    assert len(epochs) >= len(watched.loss_curve_)  # every run's epochs, reported here
    assert_same_fit(MLPClassifier(**kw).fit(X, targets[MLPClassifier]), watched)


def test_warm_start_from_assigned_weights_keeps_them_in_run_0(data, monkeypatch):
    """Weights assigned before a warm-started fit are run 0's start: the in-process loop's
    (the restarts as tasks, built from the parameters, would not see them)."""
    X, targets = data
    y = targets[MLPClassifier]
    start = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=9).fit(X, y)

    def fit():
        clf = MLPClassifier(**params(warm_start=True, random_state=2))
        clf.coefs_, clf.intercepts_ = start.coefs_, start.intercepts_
        assert not clf._restarts_apply()
        return clf.fit(X, y)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same_fit(fit(), in_process(monkeypatch, fit), FITTED)


def test_restarts_without_validation_samples_give_the_fits_error(data):
    X, targets = data
    clf = MLPClassifier(**params(early_stopping=True, validation_fraction=0.0))
    with pytest.raises(ValueError, match="early_stopping=True needs validation samples"):
        clf.fit(X, targets[MLPClassifier])
    tiny = MLPClassifier(**params(early_stopping=True, validation_fraction=0.005))
    with pytest.raises(ValueError, match="The validation set is too small"):
        tiny.fit(X, targets[MLPClassifier])
