"""What a fit checks before it allocates or trains anything: that a fit continuing the fitted
network (``warm_start``, ``partial_fit``) asks for the same network, that a classifier's output
is a probability, and that the network fits in this machine's memory."""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from chainrule.activations import Activation, get_activation
from chainrule.costs import get_cost
from chainrule.network import dropout_rates
from chainrule.persistence import ModelFormatError
from chainrule.training import minibatch_rows

#: float64 vectors of the parameters' length that scipy's L-BFGS-B holds: ``2 m + 5`` in its
#: workspace (``m = 10`` correction pairs, scipy's default ``maxcor``), ``x`` and the gradient
LBFGS_VECTORS = 2 * 10 + 5 + 2

#: where a classifier's output activation is checked to lie in [0, 1] (a user activation)
PROBABILITY_GRID = np.linspace(-40.0, 40.0, 81)


def check_checkpointed_fit(incremental: bool, solver: str, n_init: int) -> None:
    """A fit with a ``checkpoint`` writes epochs of one run: ``fit`` (not ``partial_fit``) with
    a stochastic solver and ``n_init=1``; else a ValueError."""
    if incremental or solver == "lbfgs" or n_init != 1:
        raise ValueError(
            "checkpoint needs fit (not partial_fit) with solver='sgd' or 'adam' and n_init=1"
        )


def network_mismatch(net, asked: dict) -> tuple[str, str, str] | None:
    """The first of the hidden layers, activations, output activation, cost and dtype where
    ``asked`` (the arguments of the network the parameters ask for) does not describe ``net``:
    ``(parameter, net's value, asked value)`` as text; None where it describes it."""
    hidden, fitted = asked["layer_sizes"][1:-1], list(net.layer_sizes[1:-1])
    compared = {
        "hidden_layer_sizes": (hidden, fitted),
        "dtype": (np.dtype(asked["dtype"]).name, net.dtype.name),
        "loss": (get_cost(asked["cost"]), net.cost_function),
        "output_activation": (get_activation(asked["output_activation"]), net.activations[-1]),
    }
    if hidden == fitted:  # the activations per layer compare only for the same layers
        activation = asked["activation"]
        specs = activation if isinstance(activation, list | tuple) else [activation] * len(hidden)
        compared["activation"] = ([get_activation(a) for a in specs], net.activations[:-1])
    for name, (wanted, have) in compared.items():
        if wanted != have:
            return name, _shown(have), _shown(wanted)
    return None


def continue_network(net, asked: dict) -> None:
    """Prepare ``net`` for a fit that continues it (``warm_start=True`` or ``partial_fit``).

    ``asked``, the arguments of the network the parameters ask for, must describe ``net``
    (:func:`network_mismatch`); else a ValueError naming the parameter (scikit-learn fails on a
    changed ``hidden_layer_sizes`` too, with a shape error). A new ``alpha`` applies, as in
    scikit-learn."""
    check_same_network(
        net,
        asked,
        ValueError,
        "warm_start=True (or partial_fit) continues the fitted network, whose {name} is "
        "{have}, but the parameters now ask for {wanted}: set {name} back, or fit with "
        "warm_start=False (or a clone) to train a new network",
    )
    net.alpha = float(asked["alpha"])
    net.l1_ratio = float(asked["l1_ratio"])
    net.dropout = dropout_rates(asked.get("dropout", 0.0), net.L_hidden)  # a new rate applies


def check_loaded_network(net, asked) -> None:
    """A loaded network must be the one the loaded parameters ask for (``asked(hidden)``: the
    arguments of that network with ``net``'s hidden sizes); else ModelFormatError."""
    try:
        config = asked(list(net.layer_sizes[1:-1]))
    except ValueError as e:  # a classifier's output that gives no probability, say
        raise ModelFormatError(f"the parameters disagree with the network: {e}") from None
    message = "the parameters disagree with the network: its {name} is {have}, the parameters "
    check_same_network(net, config, ModelFormatError, message + "say {wanted}")


def check_same_network(net, asked: dict, error: type[Exception], message: str) -> None:
    """``error(message)`` (``message`` formatted with the parameter's ``name``, the network's
    value ``have`` and the ``wanted`` one) at the first :func:`network_mismatch`."""
    mismatch = network_mismatch(net, asked)
    if mismatch is not None:
        name, have, wanted = mismatch
        raise error(message.format(name=name, have=have, wanted=wanted))


def _shown(value) -> str:
    if isinstance(value, list) and value and isinstance(value[0], Activation):
        return repr([a.name for a in value])
    if isinstance(value, list):
        return repr(tuple(value))
    return repr(getattr(value, "name", value))


def check_probability_output(output: Activation, n_outputs: int) -> None:
    """A classifier's output activation must give probabilities: values in [0, 1] (the
    sigmoid, softmax, or a user activation checked on :data:`PROBABILITY_GRID`), and a softmax
    over more than one unit (over one it is always 1); else a ValueError at fit. Every other
    built-in leaves [0, 1] on the grid."""
    if output.name == "softmax":
        if n_outputs == 1:
            raise ValueError(
                "output_activation='softmax' over the one output unit of a binary target is "
                "always 1; binary targets use 'sigmoid' (the default)"
            )
        return
    if output.name == "sigmoid":
        return
    z = np.repeat(PROBABILITY_GRID[:, None], n_outputs, axis=1)
    with np.errstate(all="ignore"):
        a = np.asarray(output(z), dtype=np.float64)
    if not np.all((a >= 0) & (a <= 1)):
        raise ValueError(
            f"output_activation={output.name!r} gives values outside [0, 1] ({np.nanmin(a):.3g} "
            f"to {np.nanmax(a):.3g} for z in [-40, 40]), which are not probabilities: "
            "predict_proba and the cross-entropy cost need 'softmax' (several classes) or "
            "'sigmoid' (binary, multilabel); for unbounded outputs use MLPRegressor"
        )


def memory_need(layer_sizes: Sequence[int], dtype, rows: int, optimizer_vectors: int) -> dict:
    """Bytes a fit allocates at least, by part: the parameters and their gradient, the
    optimizer's state (``optimizer_vectors`` vectors of the parameters' length in ``dtype``,
    or :data:`LBFGS_VECTORS` float64 ones for L-BFGS, ``optimizer_vectors < 0``), and ``z``,
    ``a`` and ``delta`` of every layer for ``rows`` rows (a minibatch, or all the data for
    L-BFGS)."""
    size = np.dtype(dtype).itemsize
    n_params = sum((n_in + 1) * n_out for n_in, n_out in pairwise(layer_sizes))
    optimizer = LBFGS_VECTORS * 8 if optimizer_vectors < 0 else optimizer_vectors * size
    return {
        "parameters and gradient": 2 * n_params * size,
        "optimizer state": n_params * optimizer,
        f"activations of {rows} rows": rows * 3 * sum(layer_sizes[1:]) * size,
    }


def fit_memory_need(layer_sizes: Sequence[int], dtype, params: dict, n_samples: int) -> dict:
    """:func:`memory_need` of a fit on ``n_samples`` samples with the estimator parameters
    ``params`` (``solver``, ``batch_size``, ``momentum``)."""
    solver = params["solver"]
    rows = n_samples if solver == "lbfgs" else minibatch_rows(params["batch_size"], n_samples)
    vectors = {"lbfgs": -1, "adam": 2}.get(solver, int(params["momentum"] > 0))
    return memory_need(layer_sizes, dtype, rows, vectors)


def physical_memory() -> int | None:
    """This machine's physical memory in bytes, or None where ``os.sysconf`` cannot tell."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(config: dict, params: dict, n_samples: int, name: str) -> None:
    """A MemoryError naming the need, by part (:func:`fit_memory_need`), if a fit of the
    network ``config`` (:class:`~chainrule.network.Network`'s arguments) on ``n_samples``
    samples with the estimator ``name``'s ``params`` needs more than this machine's memory."""
    sizes = config["layer_sizes"]
    need = fit_memory_need(sizes, config["dtype"], params, n_samples)
    total, have = sum(need.values()), physical_memory()
    if have is None or total <= have:
        return
    parts = ", ".join(f"{part} {_bytes(n)}" for part, n in need.items())
    raise MemoryError(
        f"{name}(hidden_layer_sizes={tuple(sizes[1:-1])}) on {sizes[0]} features needs at "
        f"least {_bytes(total)} ({parts}), more than this machine's {_bytes(have)} of memory: "
        "use fewer or smaller hidden layers, a smaller batch_size, or dtype='float32'"
    )


def _bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit (up to TiB) that keeps it at least 1."""
    power = min(int(np.log2(max(n, 1)) // 10), 4)
    return f"{n / 1024**power:.3g} {('bytes', 'KiB', 'MiB', 'GiB', 'TiB')[power]}"
