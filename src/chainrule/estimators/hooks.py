"""The estimator's part of each epoch of :func:`chainrule.training.train_epochs`: scikit-learn
callbacks, validation for early stopping, checkpoints (the :class:`~chainrule.training.LoopHooks`
protocol)."""

from __future__ import annotations

from collections.abc import Callable


class FitHooks:
    """What the training loop calls around each epoch (or L-BFGS iteration) of one fit.

    ``validate() -> (score, loss) | None``, ``diverged(cost)``, ``publish()`` (the training
    record as fitted attributes), ``checkpoint(finished)`` and ``reconstruction()`` (what a
    callback's fitted estimator needs) are the estimator's.
    """

    def __init__(
        self,
        estimator,
        ctx,
        X,
        y,
        *,
        validate: Callable,
        diverged: Callable,
        publish: Callable,
        checkpoint: Callable,
        reconstruction: Callable,
    ) -> None:
        self.estimator, self.ctx, self.X, self.y = estimator, ctx, X, y
        self.validation = validate
        self.diverged = diverged
        self.publish = publish
        self.write_checkpoint = checkpoint
        self.reconstruction = reconstruction
        # scikit-learn sets this attribute when callbacks are registered
        self.callbacks = hasattr(estimator, "_skl_callbacks")
        self.epoch_ctx = self.iteration_ctx = None

    def epoch_begin(self) -> None:
        self.epoch_ctx = self.ctx.subcontext(task_name="epoch")
        self.epoch_ctx.call_on_fit_task_begin(estimator=self.estimator, X=self.X, y=self.y)

    def epoch_abort(self) -> None:
        self.epoch_ctx.call_on_fit_task_end(estimator=self.estimator)

    def epoch_end(self) -> bool:
        self.publish()
        reconstruction = self.reconstruction if self.callbacks else None
        return bool(
            self.epoch_ctx.call_on_fit_task_end(
                estimator=self.estimator, X=self.X, y=self.y,
                reconstruction_attributes=reconstruction,
            )
        )  # fmt: skip

    def checkpoint(self, finished: bool) -> None:
        self.publish()
        self.write_checkpoint(finished)

    def lbfgs_begin(self) -> Callable[[float], bool] | None:
        """``on_iteration(cost)`` for L-BFGS (None without callbacks): each iteration is a
        callback subtask."""
        est, X = self.estimator, self.X
        self.iteration_ctx = self.ctx.subcontext(task_name="iteration")
        self.iteration_ctx.call_on_fit_task_begin(estimator=est, X=X)
        if not self.callbacks:
            return None

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
