"""What a checkpoint records of a run (:mod:`chainrule.persistence.records`): random
generators and optimizers restored to continue exactly where they were saved."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.optimizers import Adam
from chainrule.persistence.records import (
    generator_from_state,
    generator_state,
    optimizer_payload,
    restore_optimizer,
)


@pytest.mark.parametrize("make", [np.random.RandomState, np.random.default_rng])
def test_a_generator_restored_from_its_json_state_draws_what_it_would_have(make):
    rng = make(3)
    rng.random_sample(7) if isinstance(rng, np.random.RandomState) else rng.random(7)
    restored = generator_from_state(json.loads(json.dumps(generator_state(rng))))
    assert type(restored) is type(rng)
    draw = "random_sample" if isinstance(rng, np.random.RandomState) else "random"
    np.testing.assert_array_equal(getattr(restored, draw)(5), getattr(rng, draw)(5))


def test_an_unknown_bit_generator_is_refused():
    state = {**generator_state(np.random.default_rng(0)), "bit_generator": "os.system"}
    with pytest.raises(ValueError, match=r"unknown bit generator 'os\.system'"):
        generator_from_state(state)


def test_an_optimizer_restored_from_its_payload_steps_as_the_original():
    """Adam's moments, step count and learning rate survive: the next step is the same."""
    rng = np.random.default_rng(0)
    theta, grad = rng.normal(size=6), rng.normal(size=6)
    saved = Adam(learning_rate=0.01)
    saved.step(theta, grad)
    meta, arrays = optimizer_payload(saved)
    restored = Adam(learning_rate=0.5)
    restore_optimizer(restored, json.loads(json.dumps(meta)), arrays)
    a, b = theta.copy(), theta.copy()
    saved.step(a, grad)
    restored.step(b, grad)
    np.testing.assert_array_equal(a, b)
