"""The package (:mod:`chainrule`): every public name imported on first use (PEP 562), each once,
and ``load``/``save`` with every estimator class registered."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chainrule as cr


def test_the_lazy_package_keeps_every_public_name():
    assert set(cr.__all__) <= set(dir(cr))
    for name in cr.__all__:
        assert getattr(cr, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        cr.nothing
    code = "import chainrule as cr; print(cr.plotting.plot_loss.__module__, cr.load.__module__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["chainrule.plotting.curves", "chainrule.persistence.models"]


def test_a_name_is_imported_when_first_looked_up_and_kept():
    """``import chainrule`` imports none of the modules behind its names; the first lookup
    imports the name's module and keeps the name (later lookups skip ``__getattr__``);
    ``load`` imports the estimators first, which register their classes with
    ``chainrule.persistence``."""
    code = (
        "import sys, chainrule as cr\n"
        "print('chainrule.network' in sys.modules, 'Network' in vars(cr))\n"
        "cr.Network\n"
        "print('chainrule.network' in sys.modules, 'Network' in vars(cr))\n"
        "cr.load\n"
        "print('chainrule.estimators' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True", "True", "True"]
