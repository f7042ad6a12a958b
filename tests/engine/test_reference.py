"""The reference engine's own lines that no other test reaches: dropout's masks."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import reference


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_masks_keep_one_minus_p_of_the_units_scaled_by_its_inverse(p, dtype):
    mask = reference.dropout_mask(2**62 + 12345, 7, 1, (400, 250), p, dtype)
    scale = dtype(1 / (1 - p))
    assert mask.dtype == dtype and mask.shape == (400, 250)
    assert set(np.unique(mask)) <= {dtype(0), scale}
    kept = np.mean(mask != 0)
    # 100000 independent Bernoulli(1 - p) draws: 6 standard deviations of their mean
    assert abs(kept - (1 - p)) < 6 * np.sqrt(p * (1 - p) / mask.size)


def test_dropout_masks_are_a_function_of_key_step_and_layer():
    def mask(key, step, m):
        return reference.dropout_mask(key, step, m, (30, 20), 0.5, np.float64)

    assert np.array_equal(mask(1, 2, 0), mask(1, 2, 0))
    others = [mask(2, 2, 0), mask(1, 3, 0), mask(1, 2, 1)]
    assert all(not np.array_equal(mask(1, 2, 0), other) for other in others)
    # a unit's draw does not depend on the minibatch's number of rows
    assert np.array_equal(mask(1, 2, 0)[:10], reference.dropout_mask(1, 2, 0, (10, 20), 0.5, float))


def test_no_mask_for_a_rate_of_zero():
    masks = reference.dropout_masks([0.0, 0.5], 9, 0, [3, 4, 5, 2], 6, np.zeros(3, np.float32))
    assert masks[0] is None and masks[1].shape == (6, 5) and masks[1].dtype == np.float32
