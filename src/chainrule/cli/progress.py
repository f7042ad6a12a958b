"""``chainrule train``'s callback: a live progress bar, and a clean stop after Ctrl-C."""

from __future__ import annotations


class EpochProgress:
    """A scikit-learn callback (``sklearn.callback`` protocol): one live progress bar over the
    epochs (training loss, validation loss, elapsed time) unless ``quiet``, and a stop at the
    end of the epoch once :attr:`stop_requested` is set (by ``chainrule train``'s Ctrl-C
    handler when the interrupt arrived in the middle of a checkpoint write)."""

    def __init__(self, max_epochs: int, quiet: bool = False) -> None:
        self.max_epochs = max_epochs
        self.quiet = quiet
        self.stop_requested = False
        self._progress = None

    def setup(self, estimator, context):
        if self.quiet:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("epoch {task.completed:>4}/{task.total}"),
            BarColumn(),
            TextColumn("loss {task.fields[loss]}  validation loss {task.fields[val]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task("fit", total=self.max_epochs, loss="-", val="-")
        self._progress.start()

    def teardown(self, estimator, context):
        if self._progress is not None:
            self._progress.stop()

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if self._progress is not None and context.task_name == "epoch":
            if getattr(estimator, "loss_curve_", None):
                val = getattr(estimator, "validation_loss_curve_", None)
                self._progress.update(
                    self._task,
                    completed=estimator.n_iter_,
                    loss=f"{estimator.loss_curve_[-1]:.4f}",
                    val=f"{val[-1]:.4f}" if val else "-",
                )
        return self.stop_requested
