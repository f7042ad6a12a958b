"""chainrule.training.solvers: one meaning of each solver name."""

from __future__ import annotations

import pytest

import chainrule as cr
from chainrule.training import SOLVERS, make_optimizer


def test_sgd_is_scikit_learns_momentum_and_the_seeds_rules_have_their_own_names():
    sgd = make_optimizer("sgd", learning_rate_init=0.1, momentum=0.8)
    assert isinstance(sgd, cr.Momentum) and sgd.nesterov and sgd.momentum == 0.8
    plain_sgd = make_optimizer("sgd", learning_rate_init=0.1, nesterovs_momentum=False)
    assert isinstance(plain_sgd, cr.Momentum) and not plain_sgd.nesterov
    descent = make_optimizer("gradient_descent", learning_rate_init=0.1)
    assert type(descent) is cr.GradientDescent and descent.learning_rate == 0.1
    # nesterovs_momentum belongs to "sgd": the seed's names say which momentum they are
    seed = make_optimizer("momentum", learning_rate_init=0.1, nesterovs_momentum=True)
    assert isinstance(seed, cr.Momentum) and not seed.nesterov and seed.momentum == 0.9
    assert make_optimizer("nesterov", learning_rate_init=0.1).nesterov
    adam = make_optimizer("adam", learning_rate_init=0.01, beta_1=0.5, epsilon=1e-6)
    assert isinstance(adam, cr.Adam) and (adam.beta_1, adam.epsilon) == (0.5, 1e-6)


def test_every_name_of_the_table_makes_an_optimizer_and_others_are_refused():
    for name in SOLVERS:
        assert isinstance(make_optimizer(name, learning_rate_init=0.1), cr.Optimizer)
    with pytest.raises(ValueError, match=r"unknown solver 'lbgfs'; valid names are \['adam'"):
        make_optimizer("lbgfs", learning_rate_init=0.1)
