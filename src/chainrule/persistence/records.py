"""The training record in files: the JSON-able state of random generators, optimizers and
:class:`~chainrule.training.TrainingRecord` (what checkpoints and pickles store beyond the
fitted attributes)."""

from __future__ import annotations

import numpy as np

from chainrule._arrays import copy, is_numpy, to_numpy
from chainrule.optimizers import Optimizer
from chainrule.training import TrainingRecord


def generator_state(rng) -> dict:
    """The JSON-able state of a ``RandomState`` or a ``Generator``."""
    if isinstance(rng, np.random.RandomState):
        state = rng.get_state(legacy=False)
        key = state["state"]["key"].tolist()
        return {**state, "state": {**state["state"], "key": key}, "legacy": True}
    return rng.bit_generator.state


def generator_from_state(state: dict):
    """A ``RandomState`` or ``Generator`` that continues exactly where :func:`generator_state`
    left it."""
    name = state.get("bit_generator")
    if name not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
        raise ValueError(f"unknown bit generator {name!r} in the checkpoint")
    if state.get("legacy"):
        rs = np.random.RandomState()
        inner = {**state["state"], "key": np.asarray(state["state"]["key"], dtype=np.uint32)}
        rs.set_state({k: v for k, v in state.items() if k != "legacy"} | {"state": inner})
        return rs
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def optimizer_payload(optimizer: Optimizer) -> tuple[dict, dict[str, np.ndarray]]:
    """An optimizer's learning rate, step count and moments, as JSON and arrays."""
    meta: dict = {"learning_rate": optimizer.learning_rate}
    arrays = {}
    for name, value in optimizer.state().items():
        if hasattr(value, "shape") and not (is_numpy(value) and value.ndim == 0):
            arrays[name] = to_numpy(value)
        elif value is not None:
            meta[name] = value
    return meta, arrays


def restore_optimizer(optimizer: Optimizer, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Put back what :func:`optimizer_payload` saved."""
    optimizer.learning_rate = float(meta["learning_rate"])
    state = {name: meta.get(name) for name in optimizer.state()}
    state.update({name: copy(arrays[name]) for name in state if name in arrays})
    optimizer.load_state(state)


def record_payload(record: TrainingRecord) -> tuple[dict, dict[str, np.ndarray]]:
    """What a record holds beyond the published attributes (the random source, the
    optimizer's rate and moments, the plateau monitor), as JSON and arrays."""
    monitor = record.monitor
    meta: dict = {
        "steps": record.steps,
        "rng": generator_state(record.rng),
        "monitor": {
            "best": monitor.best,
            "best_epoch": monitor.best_epoch,
            "stale_epochs": monitor.stale_epochs,
        },
    }
    arrays = {}
    if record.optimizer is not None:
        meta["optimizer"], opt_arrays = optimizer_payload(record.optimizer)
        arrays.update({f"optimizer.{k}": v for k, v in opt_arrays.items()})
    if monitor.best_theta is not None:
        arrays["best_theta"] = to_numpy(monitor.best_theta)
    return meta, arrays


def restore_record(record: TrainingRecord, meta: dict, arrays: dict, optimizer) -> None:
    """Put back what :func:`record_payload` saved; ``optimizer`` is a fresh one of the fit's
    kind (None to leave the record without one)."""
    record.steps = int(meta["steps"])
    record.rng = generator_from_state(meta["rng"])
    monitor = record.monitor
    monitor.best = float(meta["monitor"]["best"])
    monitor.best_epoch = int(meta["monitor"]["best_epoch"])
    monitor.stale_epochs = int(meta["monitor"]["stale_epochs"])
    if "best_theta" in arrays:
        monitor.best_theta = copy(arrays["best_theta"])
    if optimizer is not None and "optimizer" in meta:
        prefix = "optimizer."
        opt_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        restore_optimizer(optimizer, meta["optimizer"], opt_arrays)
        record.optimizer = optimizer
