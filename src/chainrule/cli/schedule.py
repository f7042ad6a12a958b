"""``--schedule NAME[:PARAMETER=VALUE,...]``: the learning-rate schedule of ``chainrule train``,
as the estimators' parameters (``learning_rate`` and the parameters of its schedule)."""

from __future__ import annotations

import argparse

#: the schedule names ``--schedule`` takes (a callable has no command-line form)
NAMES = ("constant", "invscaling", "adaptive", "cosine", "step")
#: the parameters of the schedules, and their type
PARAMETERS = {
    "warmup_epochs": int,
    "restart_epochs": int,
    "restart_mult": int,
    "learning_rate_min": float,
    "step_epochs": int,
    "step_factor": float,
    "power_t": float,
}

SCHEDULE_HELP = (
    "the learning-rate schedule, NAME[:PARAMETER=VALUE,...]: NAME is constant (the default), "
    "cosine, step, or sgd's invscaling or adaptive; PARAMETER is one of "
    f"{', '.join(PARAMETERS)} (the estimators' parameters, docs/derivation.md has each "
    "formula); e.g. cosine:warmup_epochs=5,restart_epochs=20 or step:step_epochs=30,"
    "step_factor=0.1"
)


def schedule(text: str) -> dict:
    """The estimator parameters ``text`` names, checked by the estimators' constraints.

    >>> schedule("cosine:warmup_epochs=5,learning_rate_min=1e-5")
    {'learning_rate': 'cosine', 'warmup_epochs': 5, 'learning_rate_min': 1e-05}
    """
    name, _, rest = text.partition(":")
    if name not in NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown schedule {name!r} in {text!r}; expected one of {', '.join(NAMES)}"
        )
    params: dict = {"learning_rate": name}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep or key not in PARAMETERS:
            raise argparse.ArgumentTypeError(
                f"expected PARAMETER=VALUE with PARAMETER one of {', '.join(PARAMETERS)}, "
                f"got {item!r}"
            )
        try:
            params[key] = PARAMETERS[key](value)
        except ValueError:
            kind = "an integer" if PARAMETERS[key] is int else "a number"
            raise argparse.ArgumentTypeError(f"{key} must be {kind}, got {value!r}") from None
    _check(params)
    return params


def _check(params: dict) -> None:
    """scikit-learn's constraints of the estimators' parameters, as an argument error."""
    from sklearn.utils._param_validation import (
        InvalidParameterError,
        validate_parameter_constraints,
    )

    from chainrule.estimators.params import PARAMETER_CONSTRAINTS

    try:
        validate_parameter_constraints(PARAMETER_CONSTRAINTS, params, caller_name="--schedule")
    except InvalidParameterError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
