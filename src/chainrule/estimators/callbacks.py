"""scikit-learn's views of a fit in progress: its callbacks around the epochs
(:class:`CallbackObserver`, the estimator's :class:`~chainrule.training.FitObserver` of a
:class:`~chainrule.training.Trainer`: shown each run's network and record, it publishes them as
the fitted attributes a callback reads and reports each epoch, or L-BFGS iteration, as a
callback subtask) and ``_no_improvement_count`` (:class:`StaleEpochs`)."""

from __future__ import annotations

from collections.abc import Callable


class CallbackObserver:
    """The callbacks of one fit: ``ctx`` is its scikit-learn callback context, ``X`` and ``y``
    what the callbacks are shown, ``publish(net, record)`` sets the fitted attributes."""

    def __init__(self, estimator, ctx, X, y, publish: Callable) -> None:
        self.estimator, self.ctx, self.X, self.y = estimator, ctx, X, y
        self.publish = publish
        self.net = None
        self.epoch_ctx = self.iteration_ctx = None

    def run_begin(self, net, record) -> None:
        self.net = net
        self.publish(net, record)

    def reconstruction(self) -> dict:
        """The fitted attributes a callback's ``fitted_estimator`` needs at this point."""
        return {"network_": self.net.copy()}

    def epoch_begin(self) -> None:
        self.epoch_ctx = self.ctx.subcontext(task_name="epoch")
        self.epoch_ctx.call_on_fit_task_begin(estimator=self.estimator, X=self.X, y=self.y)

    def epoch_abort(self) -> None:
        self.epoch_ctx.call_on_fit_task_end(estimator=self.estimator)

    def epoch_end(self, record) -> bool:
        self.publish(self.net, record)
        return bool(
            self.epoch_ctx.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                reconstruction_attributes=self.reconstruction,
            )
        )

    def lbfgs_begin(self) -> Callable[[float], bool]:
        """``on_iteration(cost)`` for L-BFGS: each iteration is a callback subtask."""
        est, X = self.estimator, self.X
        self.iteration_ctx = self.ctx.subcontext(task_name="iteration")
        self.iteration_ctx.call_on_fit_task_begin(estimator=est, X=X)

        def on_iteration(cost: float) -> bool:
            stop = self.iteration_ctx.call_on_fit_task_end(
                estimator=est, X=X, reconstruction_attributes=self.reconstruction
            )
            self.iteration_ctx = self.ctx.subcontext(task_name="iteration")
            self.iteration_ctx.call_on_fit_task_begin(estimator=est, X=X)
            return bool(stop)

        return on_iteration

    def lbfgs_end(self) -> None:
        self.iteration_ctx.call_on_fit_task_end(estimator=self.estimator)


class StaleEpochs:
    """scikit-learn's ``_no_improvement_count`` (its tests read and set it): the plateau
    monitor's count of epochs without improvement, of the training record the estimator
    holds in its attribute ``record`` (a descriptor)."""

    def __init__(self, record: str) -> None:
        self.record = record

    def __get__(self, estimator, owner=None):
        if estimator is None:
            return self
        record = vars(estimator).get(self.record)
        if record is None:
            raise AttributeError("_no_improvement_count exists once training has started")
        return record.monitor.stale_epochs

    def __set__(self, estimator, value: int) -> None:
        record = vars(estimator).get(self.record)
        if record is not None:
            record.monitor.stale_epochs = int(value)
        elif value != 0:  # a fit starts counting from 0
            raise ValueError("_no_improvement_count can only be 0 before training starts")
