"""The playground as a notebook widget: the browser playground's session, trained in the kernel.

>>> pg = Playground()
>>> pg.step(3)
>>> pg.session.epoch, len(pg.figure.axes[1].lines[0].get_xdata())  # epochs 0 to 3
(3, 4)
>>> pg.layers.value = "3"
>>> pg.session.net.layer_sizes
(2, 3, 1)
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

import ipywidgets as widgets
import numpy as np

from chainrule._figures import new_figure, png
from chainrule.playground.config import ACTIVATIONS, layer
from chainrule.playground.data import CLASSIFICATION_SETS, REGRESSION_SETS
from chainrule.playground.session import Diverged, Session
from chainrule.plotting import plot_decision_boundary, plot_loss, plot_network

__all__ = ["Playground", "parse_layers"]

#: the learning rates offered (TensorFlow Playground's), besides the session's own
RATES = (1e-5, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
#: a control's description in full, not cut to the default width
WIDE = {"description_width": "initial"}

#: grid points along each axis of the decision boundary, and the picture's dots per inch: a
#: frame is drawn in a few tenths of a second
BOUNDARY_RESOLUTION = 60
DPI = 72


def parse_layers(text: str) -> list[int]:
    """The hidden layers' sizes written as ``"4, 2"`` (an empty text: no hidden layer).

    >>> parse_layers("4, 2"), parse_layers(" ")
    ([4, 2], [])
    """
    parts = [p.strip() for p in text.replace(";", ",").split(",")]
    if parts == [""]:
        return []
    if not all(p.isdigit() for p in parts):
        raise ValueError(
            f"layers must be whole numbers separated by commas, like 4, 2; got {text!r}"
        )
    return [int(p) for p in parts]


class Playground(widgets.VBox):
    """Play, pause and step training; set the learning rate, the hidden layers, their activation
    and the data set; watch the network (weights as lines), the costs and the decision boundary.

    Parameters
    ----------
    session : Session, optional
        The state trained (a new :class:`~chainrule.playground.session.Session`, xor and two
        tanh layers, by default).
    interval : float, default=0.2
        Seconds between two frames while playing; each frame trains ``speed`` epochs.
    """

    def __init__(self, session: Session | None = None, interval: float = 0.2, **kwargs: Any):
        self.session = Session() if session is None else session
        self.interval = float(interval)
        self.task: asyncio.Task | None = None
        config = self.session.config
        self.play_button = widgets.ToggleButton(description="play", icon="play")
        self.step_button = widgets.Button(description="step", icon="step-forward")
        self.reset_button = widgets.Button(description="reset", icon="refresh")
        self.speed = widgets.IntSlider(
            value=1, min=1, max=50, description="epochs/frame", style=WIDE
        )
        rate = config["learning_rate"]
        self.learning_rate = widgets.SelectionSlider(
            options=sorted({*RATES, rate}),
            value=rate,
            description="learning rate",
            style=WIDE,
            layout=widgets.Layout(width="300px"),
        )
        self.layers = widgets.Text(
            value=", ".join(str(s["units"]) for s in config["layers"]),
            description="layers",
            continuous_update=False,
            placeholder="4, 2",
            layout=widgets.Layout(width="220px"),
        )
        hidden = config["layers"][0]["activation"] if config["layers"] else "tanh"
        self.activation = widgets.Dropdown(
            options=ACTIVATIONS, value=hidden, description="activation"
        )
        self.dataset = widgets.Dropdown(
            options=[*CLASSIFICATION_SETS, *REGRESSION_SETS],
            value=config["dataset"],
            description="data",
            layout=widgets.Layout(width="180px"),
        )
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        wrap = widgets.Layout(flex_flow="row wrap")  # narrow notebooks: the controls wrap
        buttons = [self.play_button, self.step_button, self.reset_button, self.speed]
        settings = [self.learning_rate, self.layers, self.activation, self.dataset]
        buttons, settings = widgets.HBox(buttons, layout=wrap), widgets.HBox(settings, layout=wrap)
        super().__init__([buttons, settings, self.status, self.image], **kwargs)
        self.add_class("chainrule-playground")
        self.play_button.observe(self._toggled, names="value")
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self._apply(None))
        self.learning_rate.observe(self._settings_changed, names="value")
        self.layers.observe(self._settings_changed, names="value")
        self.activation.observe(self._settings_changed, names="value")
        self.dataset.observe(self._settings_changed, names="value")
        self.redraw()

    # -- training ----------------------------------------------------------------------------

    def step(self, epochs: int = 1) -> None:
        """Train ``epochs`` epochs (``Session.train_epoch``), then redraw; a divergence pauses
        and says so."""
        try:
            for _ in range(int(epochs)):
                self.session.train_epoch()
        except Diverged as exc:
            self.play_button.value = False
            self.redraw(str(exc))
            return
        self.redraw()

    def play(self) -> None:
        """Train ``speed`` epochs a frame until :meth:`pause`, on the running event loop (the
        kernel's): the kernel answers other cells and the widgets between frames."""
        self.play_button.value = True

    def pause(self) -> None:
        self.play_button.value = False

    def _toggled(self, change: dict) -> None:
        self.play_button.description = "pause" if change["new"] else "play"
        self.play_button.icon = "pause" if change["new"] else "play"
        if not change["new"] or (self.task is not None and not self.task.done()):
            return  # pausing: the running task sees the button and stops
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.play_button.value = False
            self.redraw("play needs a running event loop (a Jupyter kernel); use step()")
            return
        self.task = loop.create_task(self._frames())

    async def _frames(self) -> None:
        try:
            while self.play_button.value:
                self.step(self.speed.value)
                await asyncio.sleep(self.interval)
        except Exception as exc:  # said under the controls, not lost in a task nobody awaits
            self.play_button.value = False
            self.status.value += f'<br><span style="color: #b00">{html.escape(repr(exc))}</span>'
            raise

    # -- settings ----------------------------------------------------------------------------

    def _settings_changed(self, change: dict) -> None:
        """The setting of the control that changed, and only that one."""
        if change["owner"] is self.learning_rate:
            self._apply({"learning_rate": self.learning_rate.value})
        elif change["owner"] is self.dataset:
            self._apply({"dataset": self.dataset.value})
        else:  # the layers or their activation
            try:
                units = parse_layers(self.layers.value)
            except ValueError as exc:
                self.redraw(str(exc))
                return
            self._apply({"layers": [layer(n, self.activation.value) for n in units]})

    def _apply(self, changes: dict | None) -> None:
        """``Session.configure(changes)`` (``None``: new initial weights), and a redraw; a
        refused setting leaves the session as it was and is shown."""
        try:
            if changes is None:
                self.session.reset()
            else:
                self.session.configure(changes)
        except ValueError as exc:
            self.redraw(str(exc))
            return
        self.redraw()

    # -- drawing -----------------------------------------------------------------------------

    def accuracy(self) -> float | None:
        """The share of test points classified right (``None`` for regression): the browser
        playground's test accuracy, :meth:`Session.accuracies`."""
        accuracies = self.session.accuracies()
        return None if accuracies is None else accuracies[1]

    def redraw(self, error: str | None = None) -> None:
        """The status line (epoch, costs, accuracy, or ``error``) and the three pictures."""
        s = self.session
        epochs, train, test = np.array(s.history, dtype=float)[:, :3].T  # (epoch, train, test)
        line = f"epoch {s.epoch} · training cost {train[-1]:.4f} · test cost {test[-1]:.4f}"
        accuracy = self.accuracy()
        if accuracy is not None:
            line += f" · test accuracy {accuracy:.2f}"
        if error is not None:
            line += f'<br><span style="color: #b00">{html.escape(error)}</span>'
        self.status.value = line
        fig = new_figure(figsize=(13.0, 3.8))
        network, loss, boundary = fig.subplots(1, 3, width_ratios=[1.2, 1, 1.1])
        plot_network(s.net, ax=network)
        plot_loss(train, validation_loss=test, epochs=epochs, ax=loss)
        for curve, label in zip(loss.lines, ["training cost", "test cost"], strict=True):
            curve.set_label(label)
        loss.legend(loc="best")
        loss.set_title("Cost C")
        loss.set_ylabel("C")
        d = s.data
        plot_decision_boundary(
            self._prediction, d.X_train, d.y_train, ax=boundary, resolution=BOUNDARY_RESOLUTION
        )
        self.figure = fig
        self.image.value = png(fig, tight=False, dpi=DPI)

    def _prediction(self, points: np.ndarray) -> np.ndarray:
        """The network's output over ``points``: class probabilities, or the regression value."""
        with np.errstate(all="ignore"):
            out = self.session.net.forward(self.session.inputs(points))[:, 0]
        if self.session.data.task == "classification":
            return np.column_stack([1 - out, out])
        return out
