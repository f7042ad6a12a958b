"""Export a session: the trained network as a ``.crm`` model file (:func:`chainrule.save`), and a
Python script that rebuilds it exactly: the same data and features, the weights as they are at
export (so every change made during the run, a new learning rate or solver included, is in
them), the optimizer's state, the shuffling's random state and dropout's key, and the training
loop the page runs, so that the script's next epochs are the page's next epochs.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from chainrule.network import Network
from chainrule.optimizers import Adam, Momentum
from chainrule.persistence import save


def model_bytes(net: Network) -> bytes:
    """The bytes of the ``.crm`` file :func:`chainrule.save` writes for ``net``."""
    with tempfile.TemporaryDirectory(prefix="chainrule-playground-") as tmp:
        path = os.path.join(tmp, "model.crm")
        save(net, path)
        with open(path, "rb") as f:
            return f.read()


def _numbers(a: np.ndarray) -> str:
    """``a`` as Python literals that read back bit for bit (``repr`` of each float)."""
    return repr(np.asarray(a, dtype=float).tolist())


def _activation(spec: dict[str, Any]) -> str:
    if spec["activation"] == "sigmoid" and spec["beta"] != 1.0:
        return f"cr.Sigmoid(beta={spec['beta']!r})"
    return repr(spec["activation"])


def _data_lines(config: dict[str, Any], upload_name: str | None) -> list[str]:
    if config["dataset"] == "upload":
        return [
            "# the uploaded CSV file, scaled and split as the playground did",
            f"data = load_csv({upload_name or 'data.csv'!r}, "
            f"train_ratio={config['train_ratio']!r}, seed={config['data_seed']!r})",
        ]
    return [
        f"data = make_dataset({config['dataset']!r}, n_samples={config['n_samples']!r}, "
        f"noise={config['noise']!r},",
        f"                    train_ratio={config['train_ratio']!r}, seed={config['data_seed']!r})",
    ]


def _network_lines(config: dict[str, Any], net: Network, epoch: int) -> list[str]:
    activations = ", ".join(_activation(spec) for spec in config["layers"])
    lines = [
        "net = cr.Network(",
        f"    {list(net.layer_sizes)!r},",
        f"    activation=[{activations}],",
        f"    output_activation={net.activations[-1].name!r},",
        f"    cost={config['cost']!r},",
        f"    alpha={config['alpha']!r},",
        f"    l1_ratio={config['l1_ratio']!r},",
        f"    dropout={[float(p) for p in net.dropout]!r},  # each hidden layer's rate",
        ")",
        f"# the weights at epoch {epoch}, exactly; W^m has shape (N^m, N^(m-1))",
    ]
    for m in range(net.L):
        lines.append(f"net.W[{m}][...] = {_numbers(net.W[m])}")
        lines.append(f"net.b[{m}][...] = {_numbers(net.b[m])}")
    return lines


def _optimizer_lines(optimizer: Any, solver: str) -> list[str]:
    eta, decay = optimizer.learning_rate, f"weight_decay={optimizer.weight_decay!r}"
    if isinstance(optimizer, Adam):
        lines = [f"optimizer = cr.Adam({eta!r}, {decay})"]
        if optimizer.m is not None:
            lines += [
                "optimizer.load_state({",
                f"    't': {optimizer.t!r},",
                f"    'm': np.array({_numbers(optimizer.m)}),",
                f"    'v': np.array({_numbers(optimizer.v)}),",
                "})",
            ]
        return lines
    if isinstance(optimizer, Momentum):
        nesterov = solver == "nesterov"
        lines = [f"optimizer = cr.Momentum({eta!r}, momentum=0.9, nesterov={nesterov!r}, {decay})"]
        if optimizer.velocity is not None:
            lines.append(
                f"optimizer.load_state({{'velocity': np.array({_numbers(optimizer.velocity)})}})"
            )
        return lines
    return [f"optimizer = cr.GradientDescent({eta!r}, {decay})"]


_TRAINING = '''

def train_epoch():
    """One pass over the shuffled training set in minibatches, as the playground trains (the
    first finishes the epoch that was under way at export, if one was)."""
    global rest, key, epoch
    optimizer.learning_rate = schedule.rate(epoch)  # eta_e, the schedule's rate of epoch e
    if not rest:  # a new epoch: its order, and its dropout key when a layer drops units
        rest = rng.permutation(len(data.y_train)).tolist()
        key = dropout_key(rng) if any(net.dropout) else None
    done = len(data.y_train) - len(rest)  # the points the epoch under way has visited
    order, rest = np.array(rest, dtype=int), []
    size = min(batch_size, len(data.y_train))
    for start in range(0, len(order), size):
        batch = order[start : start + size]
        dW, db = gradients(X_train[batch], data.y_train[batch], (done + start) // size)
        optimizer.update(net, dW, db)  # the solver's rule, e.g. W^m <- W^m - eta dC/dW^m
    epoch += 1


def gradients(X, y, step):
    """dC/dW^m, dC/db^m of a minibatch; with dropout, through the masks of the epoch's step
    (inverted dropout: a^m o mask^m, the kept units scaled by 1/(1-p), and delta^m o mask^m)."""
    if key is None:
        return net.gradients(X, y)
    n = len(y)
    masks = dropout_masks(net.dropout, key, step, net.layer_sizes, n, net.theta)
    Y, w = y.reshape(n, 1).astype(float), np.full(n, 1 / n)  # each row weighs 1/n
    _, grad = net.batch_cost_and_gradient(X, Y, w, float(n), None, masks)
    return net.unflatten(grad)


def report(epoch):
    """The costs the playground shows (with the L2 term), and the accuracy of a classifier."""
    line = f"epoch {epoch}: training cost {net.cost(X_train, data.y_train):.4g}"
    line += f", test cost {net.cost(X_test, data.y_test):.4g}"
    if data.task == "classification":
        right = (net.forward(X_test)[:, 0] >= 0.5) == data.y_test
        line += f", test accuracy {right.mean():.3f}"
    print(line)


if __name__ == "__main__":
    import sys

    more = int(sys.argv[1]) if len(sys.argv) > 1 else 100  # epochs to train on
    report(EPOCH)
    for _ in range(more):
        train_epoch()
    report(EPOCH + more)
    cr.save(net, "playground-model.crm")
'''


#: the settings of the learning-rate schedule (chainrule.playground.schedule)
SCHEDULE_KEYS = ("schedule", "schedule_epochs", "learning_rate")


def script(session: Any) -> str:
    """Python source that rebuilds ``session``'s network exactly as it is now (a
    :class:`chainrule.playground.session.Session`) and trains it on as the page would:
    ``python script.py 50`` runs 50 more epochs (default 100) and saves the model."""
    c, net = session.config, session.net
    upload = session.upload[0] if c["dataset"] == "upload" and session.upload else None
    state = session.rng.bit_generator.state
    return "\n".join(
        [
            f'"""The chainrule playground network at epoch {session.epoch}, exactly: its data, '
            "weights, optimizer",
            'state and shuffling, and the training loop the page runs."""',
            "",
            "import numpy as np",
            "",
            "import chainrule as cr",
            "from chainrule.engine.reference import dropout_masks",
            "from chainrule.playground.schedule import make_schedule",
            "from chainrule.training.epoch import dropout_key",
            "from chainrule.playground.data import "
            + ("load_csv" if upload else "make_dataset")
            + ", make_features",
            "",
            *_data_lines(c, upload),
            f"features = {c['features']!r}",
            "X_train = make_features(data.X_train, features)",
            "X_test = make_features(data.X_test, features)",
            "",
            *_network_lines(c, net, session.epoch),
            "",
            f"# the update rule as it is now ({c['solver']}), with its state",
            *_optimizer_lines(session.optimizer, c["solver"]),
            f"batch_size = {c['batch_size']!r}",
            "# the learning-rate schedule: eta_e of each epoch e",
            f"schedule = make_schedule({ {k: c[k] for k in SCHEDULE_KEYS}!r})",
            "# the shuffling's random generator, where the page left it",
            "rng = np.random.default_rng()",
            f"rng.bit_generator.state = {state!r}",
            "# the points the epoch under way at export has still to visit (none: between epochs)",
            f"rest = {session.rest_of_epoch()!r}",
            "# its dropout key, the masks' seed (None: no layer drops units, or between epochs)",
            f"key = {session.dropout_key if session.rest_of_epoch() else None!r}",
            f"EPOCH = {session.epoch}",
            "epoch = EPOCH  # the epoch under way: the schedule's e",
            _TRAINING,
        ]
    )
