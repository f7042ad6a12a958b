"""Fixtures of the model-file tests: a network's input, a valid format-1 file, a format-2 file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.persistence import save

from model_files import read_tensors


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(7, 3))


@pytest.fixture
def valid(tmp_path):
    """A valid small model file of format 1 (a zip), written by chainrule 5f97d91."""
    path = tmp_path / "valid.crm"
    path.write_bytes((Path(__file__).parents[1] / "data" / "format1" / "network.crm").read_bytes())
    return path


@pytest.fixture
def tensors_file(tmp_path):
    """A valid format-2 file: its document and its tensors, to be forged."""
    save(cr.Network([3, 4, 2], activation=cr.Sigmoid(2.0), random_state=15), tmp_path / "v.crm")
    return read_tensors(tmp_path / "v.crm")
