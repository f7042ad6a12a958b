"""The training data's minibatch size (:func:`chainrule.training.data.minibatch_rows`)."""

from __future__ import annotations

import pytest

from chainrule.training.data import minibatch_rows


@pytest.mark.parametrize(
    ("batch_size", "n_samples", "rows"),
    [("auto", 1000, 200), ("auto", 50, 50), (32, 100, 32), (32, 10, 10)],
)
def test_a_minibatch_is_batch_size_rows_auto_200_at_most_the_samples(batch_size, n_samples, rows):
    assert minibatch_rows(batch_size, n_samples) == rows
