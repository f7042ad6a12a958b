"""One page's training session: its settings, data, network and optimizer.

Training is chainrule's own: each minibatch's ``dC/dW^m, dC/db^m`` come from
:meth:`chainrule.Network.gradients` and the update from an optimizer of
:mod:`chainrule.optimizers`. The page only draws what :meth:`Session.snapshot` reports.

>>> s = Session()
>>> before = s.losses()[0]
>>> for _ in range(30):
...     s.train_epoch()
>>> s.epoch, s.losses()[0] < before
(30, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.activations import get_activation
from chainrule.engine.reference import dropout_masks
from chainrule.network import Network
from chainrule.optimizers import Adam, GradientDescent, Momentum, Optimizer
from chainrule.playground import views
from chainrule.playground.config import (
    DATA_KEYS,
    RESTART_KEYS,
    default_config,
    number_in_range,
    task_of,
    update_config,
)
from chainrule.playground.data import PlaygroundData, make_dataset, make_features, split
from chainrule.playground.derivation import derive, gradient_check
from chainrule.playground.schedule import make_schedule, schedule_view
from chainrule.training.epoch import dropout_key

#: the longest loss history kept (older epochs are thinned out)
MAX_HISTORY = 2000


class Diverged(ArithmeticError):
    """The cost became infinite or NaN: the learning rate is too large."""


def make_optimizer(solver: str, learning_rate: float, weight_decay: float = 0.0) -> Optimizer:
    """The update rule of ``solver``: sgd, momentum (the seed's), nesterov or adam, with the
    decoupled ``weight_decay`` (``W <- W - eta lambda W`` first)."""
    if solver == "sgd":
        return GradientDescent(learning_rate, weight_decay)  # w <- w - eta dC/dw
    if solver in ("momentum", "nesterov"):
        nesterov = solver == "nesterov"
        return Momentum(learning_rate, 0.9, nesterov, weight_decay=weight_decay)
    return Adam(learning_rate, weight_decay=weight_decay)


class Session:
    """The state of one page: settings, data, network, optimizer, epoch and loss history."""

    def __init__(self) -> None:
        self.config = default_config()
        self.upload: tuple[str, np.ndarray, np.ndarray, str] | None = None  # name, X, y, task
        #: the names of an uploaded file's classes 0 and 1 (e.g. ``["no", "yes"]``)
        self.classes: list[str] = []
        self.playing = False
        self.generation = 0
        #: the derivation view's sample, ``(subset, index)``, once the page picked one
        self.selected: tuple[str, int] | None = None
        self._make_data()
        self.restart()

    # -- building ----------------------------------------------------------------------------

    @property
    def task(self) -> str:
        return task_of(self.config, self.upload[3] if self.upload else None)

    def _make_data(self) -> None:
        c = self.config
        if c["dataset"] == "upload" and self.upload is not None:
            name, X, y, task = self.upload
            self.data: PlaygroundData = split(name, task, X, y, c["train_ratio"], c["data_seed"])
        else:
            self.data = make_dataset(
                c["dataset"],
                n_samples=c["n_samples"],
                noise=c["noise"],
                train_ratio=c["train_ratio"],
                seed=c["data_seed"],
            )
        if self.selected and self.selected[1] >= len(self._subset(self.selected[0])[1]):
            self.selected = None  # fewer points now: that sample is gone

    def _make_network(self, theta: np.ndarray | None = None) -> Network:
        c = self.config
        hidden = [
            get_activation({"name": "sigmoid", "beta": spec["beta"]})
            if spec["activation"] == "sigmoid"
            else get_activation(spec["activation"])
            for spec in c["layers"]
        ]
        sizes = [len(c["features"]), *(spec["units"] for spec in c["layers"]), 1]
        net = Network(
            sizes,
            activation=hidden,
            output_activation="sigmoid" if self.task == "classification" else "identity",
            cost=c["cost"],
            alpha=c["alpha"],
            l1_ratio=c["l1_ratio"],
            random_state=c["seed"],
            dropout=[spec["dropout"] for spec in c["layers"]],
        )
        if theta is not None:
            net.theta[...] = theta
        return net

    def _make_optimizer(self) -> Optimizer:
        c = self.config
        return make_optimizer(c["solver"], c["learning_rate"], c["weight_decay"])

    def restart(self) -> None:
        """New initial weights from ``config["seed"]``; epoch 0 and an empty loss history."""
        self.net = self._make_network()
        self.optimizer = self._make_optimizer()
        self.epoch = 0
        self._schedule_rate()
        self.history: list[tuple[int, float, float]] = [(0, *self.losses())]
        self.generation += 1  # the page's copy of the history is stale
        self.last_grads: tuple[list[np.ndarray], list[np.ndarray]] | None = None
        self.rng = np.random.default_rng(self.config["seed"])
        #: the epoch under way: its shuffled order and how far it got (None between epochs)
        self.order: np.ndarray | None = None
        self.cursor = 0
        self.dropout_key: int | None = None  # the epoch's, when a layer drops units

    def reset(self) -> None:
        """Start again from fresh random weights (the next seed)."""
        self.config["seed"] = (self.config["seed"] + 1) % 2**31
        self.restart()

    def configure(self, changes: Any) -> bool:
        """Apply checked settings; returns whether the data changed (the page redraws them)."""
        old = self.config
        self.config = update_config(old, changes, self.upload[3] if self.upload else None)
        changed = {k for k in self.config if self.config[k] != old[k]}
        if self.config["dataset"] == "upload":
            changed -= {"n_samples", "noise"}  # an uploaded file has its own points
        if changed & DATA_KEYS:
            self._make_data()
        if changed & RESTART_KEYS:
            self.restart()
        elif changed & {"alpha", "l1_ratio"}:
            self.net = self._make_network(self.net.theta)  # the same weights, the new penalty
        if "solver" in changed and not changed & RESTART_KEYS:
            self.optimizer = self._make_optimizer()
        elif "learning_rate" in changed:
            self.optimizer.learning_rate = self.config["learning_rate"]
        self.optimizer.weight_decay = self.config["weight_decay"]
        if changed & {"solver", "learning_rate", "schedule", "schedule_epochs"}:
            self._schedule_rate()
        return bool(changed & DATA_KEYS)

    def _schedule_rate(self) -> None:
        """Set eta_e, the schedule's rate of the epoch under way (or the next)."""
        self.optimizer.learning_rate = make_schedule(self.config).rate(self.epoch)

    def use_upload(
        self, name: str, X: np.ndarray, y: np.ndarray, task: str, classes: list[str] | None = None
    ) -> None:
        """Train on uploaded points, scaled by :func:`chainrule.playground.data.parse_csv`;
        ``classes`` names classes 0 and 1."""
        self.upload = (name, X, y, task)
        self.classes = list(classes or [])
        self.config = update_config(self.config, {"dataset": "upload"}, task)
        self._make_data()
        self.restart()

    # -- training ----------------------------------------------------------------------------

    def inputs(self, X: np.ndarray) -> np.ndarray:
        """``a^0`` of the points ``X``: the chosen features."""
        return make_features(X, self.config["features"])

    def losses(self) -> tuple[float, float]:
        """The training and test cost ``C`` (with the L2 term) of the current weights."""
        d = self.data
        with np.errstate(all="ignore"):
            train = self.net.cost(self.inputs(d.X_train), d.y_train)
            test = self.net.cost(self.inputs(d.X_test), d.y_test)
        return train, test

    def train_minibatch(self) -> bool:
        """One minibatch of the epoch under way (a new epoch shuffles the training set);
        returns whether it ended the epoch.

        Raises :class:`Diverged` when the cost stops being finite, with the weights put back
        where the epoch began (and a fresh optimizer), so that a lower rate can go on from there.
        """
        A0, y = self.inputs(self.data.X_train), self.data.y_train
        if self.order is None:  # a new epoch
            self.order, self.cursor = self.rng.permutation(len(y)), 0
            self.epoch_start = self.net.theta.copy()
            # dropout: the epoch's key for its masks (drawn only when a layer drops units)
            self.dropout_key = dropout_key(self.rng) if any(self.net.dropout) else None
        size = min(self.config["batch_size"], len(y))
        batch = self.order[self.cursor : self.cursor + size]
        with np.errstate(all="ignore"):
            dW, db = self._gradients(A0[batch], y[batch], self.cursor // size)
            self.optimizer.update(self.net, dW, db)  # W^m <- W^m - eta dC/dW^m, ...
        self.cursor += len(batch)
        self.last_grads = ([g.copy() for g in dW], [g.copy() for g in db])
        ended = self.cursor >= len(y)
        costs = self.losses() if ended else (0.0, 0.0)
        if not (np.all(np.isfinite(costs)) and np.all(np.isfinite(self.net.theta))):
            self.net.theta[...] = self.epoch_start
            self.order = None
            self.optimizer = make_optimizer(self.config["solver"], self.config["learning_rate"])
            self._schedule_rate()
            raise Diverged(
                f"training diverged in epoch {self.epoch + 1} (the cost became {costs[0]}): "
                "lower the learning rate; the weights are back where that epoch began"
            )
        if ended:
            self.order = None
            self.epoch += 1
            self._schedule_rate()  # eta_e of the next epoch
            self.history.append((self.epoch, *costs))
            if len(self.history) > MAX_HISTORY:
                self.history = self.history[:1] + self.history[2::2]
                self.generation += 1
        return ended

    def _gradients(self, X: np.ndarray, y: np.ndarray, step: int) -> tuple[list, list]:
        """``dC/dW^m``, ``dC/db^m`` of the minibatch ``X``, ``y``, through dropout's masks of
        the epoch's ``step`` when a layer drops units."""
        net = self.net
        if self.dropout_key is None:
            return net.gradients(X, y)
        n = X.shape[0]
        masks = dropout_masks(net.dropout, self.dropout_key, step, net.layer_sizes, n, net.theta)
        Y, w = y.reshape(n, 1).astype(float), np.full(n, 1 / n)
        _, grad = net.batch_cost_and_gradient(X, Y, w, float(n), None, masks)
        return net.unflatten(grad)

    def train_epoch(self) -> None:
        """The rest of the epoch under way, or one whole pass over the shuffled training set in
        minibatches (see :meth:`train_minibatch`)."""
        while not self.train_minibatch():
            pass

    def rest_of_epoch(self) -> list[int]:
        """The training points the epoch under way has still to visit, in order (none between
        epochs)."""
        return [] if self.order is None else self.order[self.cursor :].tolist()

    def accuracies(self) -> tuple[float, float] | None:
        """The share of training and test points classified right (output >= 0.5 is class 1),
        or None for a regression."""
        if self.task != "classification":
            return None
        d = self.data
        with np.errstate(all="ignore"):
            right = [
                np.mean((self.net.forward(self.inputs(X))[:, 0] >= 0.5) == y)
                for X, y in ((d.X_train, d.y_train), (d.X_test, d.y_test))
            ]
        return float(right[0]), float(right[1])

    # -- what the page draws -----------------------------------------------------------------

    def _subset(self, subset: str) -> tuple[np.ndarray, np.ndarray]:
        d = self.data
        return (d.X_train, d.y_train) if subset == "train" else (d.X_test, d.y_test)

    def select(self, subset: Any, index: Any) -> None:
        """Choose the derivation view's sample: point ``index`` of ``"train"`` or ``"test"``."""
        if subset not in ("train", "test"):
            raise ValueError(f'subset must be "train" or "test", got {subset!r}')
        n = len(self._subset(subset)[1])
        self.selected = (subset, number_in_range("index", index, 0, n - 1, integer=True))

    def _sample(self) -> tuple[str, int, np.ndarray, float]:
        subset, index = self.selected
        X, y = self._subset(subset)
        return subset, index, self.inputs(X[index : index + 1])[0], float(y[index])

    def gradient_check(self) -> dict[str, Any] | None:
        """:func:`chainrule.playground.derivation.gradient_check` of the selected sample, or
        None before one is picked."""
        if self.selected is None:
            return None
        subset, index, a0, y = self._sample()
        return {
            "subset": subset,
            "index": index,
            "epoch": self.epoch,
            **gradient_check(self.net, a0, y),
        }

    def derivation(self) -> dict[str, Any] | None:
        """The derivation view of the selected sample with the current network, optimizer and
        settings (:func:`chainrule.playground.derivation.derive`), or None before one is picked."""
        if self.selected is None:
            return None
        subset, index, a0, y = self._sample()
        view = derive(self.net, self.optimizer, self.config["solver"], a0, y)
        point = self._subset(subset)[0][index].tolist()
        view.update(subset=subset, index=index, epoch=self.epoch, point=point)
        view["schedule"] = schedule_view(self.config, self.epoch)
        return view

    def points(self) -> dict[str, Any]:
        """The data set's points for the page: coordinates, targets, task."""
        d = self.data
        return {
            "task": d.task,
            "name": d.name,
            "classes": self.classes if self.config["dataset"] == "upload" else [],
            "train": views.rounded(np.column_stack([d.X_train, d.y_train])),
            "test": views.rounded(np.column_stack([d.X_test, d.y_test])),
        }

    def snapshot(self, since: tuple[int, int] = (0, 0)) -> dict[str, Any]:
        """Epoch, losses, heat maps, weights and gradients, and the loss history the page lacks:
        ``since`` is the ``(generation, length)`` of the history it holds."""
        train, test = self.history[-1][1:]
        start = since[1] if since[0] == self.generation else 0
        size = min(self.config["batch_size"], len(self.data.y_train))
        return {
            "epoch": self.epoch,
            "train_loss": train,
            "test_loss": test,
            "accuracy": self.accuracies(),
            # minibatches done of the epoch under way, and in a whole epoch
            "minibatch": -(-self.cursor // size) if self.order is not None else 0,
            "minibatches": -(-len(self.data.y_train) // size),
            "playing": self.playing,
            "history": [list(h) for h in self.history[start:]],
            "history_from": start,
            "warnings": views.unit_warnings(
                self.net, self.inputs(self.data.X_train), (train, test)
            ),
            **views.network_view(self.net, self.inputs, self.last_grads),
        }
