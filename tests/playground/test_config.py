"""The playground's settings: bad values refused, naming the setting."""

from __future__ import annotations

import pytest

from chainrule.playground import config as pg_config


def test_config_refuses_bad_values_naming_the_setting():
    c = pg_config.default_config()
    for changes, message in [
        ({"learning_rate": 0}, "learning_rate"),
        ({"batch_size": 2.5}, "batch_size must be an integer"),
        ({"solver": "lbfgs"}, "solver must be one of"),
        ({"layers": [{"units": 9}]}, "layer 1 units"),
        ({"layers": [{"units": 2, "activation": "softmax"}]}, "layer 1 activation"),
        ({"features": []}, "features"),
        ({"dataset": "upload"}, "dataset must be one of"),
        ({"bogus": 1}, "unknown setting 'bogus'"),
        ({"noise": True}, "noise"),
        ({"cost": "huber"}, "cost must be one of"),
    ]:
        with pytest.raises(ValueError, match=message):
            pg_config.update_config(c, changes)
    assert c == pg_config.default_config()  # unchanged
    regression = pg_config.update_config(c, {"dataset": "plane"})
    assert regression["cost"] == "squared_error"  # the classification cost no longer fits
