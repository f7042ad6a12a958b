"""One run's random sources (:func:`chainrule.training.restart_generators`): the first restart is
the single run's, the others reproducible and different."""

from __future__ import annotations

import numpy as np

from chainrule.training import restart_generators


def test_the_first_restart_draws_as_the_single_run_and_the_others_differ():
    first, second, third = restart_generators(7, 3)
    np.testing.assert_array_equal(first.random_sample(4), np.random.RandomState(7).random_sample(4))
    again = restart_generators(7, 3)
    np.testing.assert_array_equal(second.random_sample(4), again[1].random_sample(4))
    assert not np.array_equal(np.random.RandomState(7).random_sample(4), third.random_sample(4))
    assert len(restart_generators(7, 1)) == 1


def test_a_generator_given_is_the_first_restart_and_spawns_the_others():
    rng = np.random.default_rng(0)
    runs = restart_generators(rng, 2)
    assert runs[0] is rng and isinstance(runs[1], np.random.Generator)
