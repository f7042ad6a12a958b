"""Writing a model file (:mod:`chainrule.persistence.writer`): deterministic bytes, to a path or a
binary file object."""

from __future__ import annotations

import io

import chainrule as cr
from chainrule.persistence import (
    load,
    save,
)

from model_files import assert_same_network


def test_saving_is_deterministic(tmp_path):
    net = cr.Network([3, 4, 2], random_state=8)
    save(net, tmp_path / "a.crm")
    save(net, tmp_path / "b.crm")
    assert (tmp_path / "a.crm").read_bytes() == (tmp_path / "b.crm").read_bytes()


def test_load_accepts_a_binary_file_object(tmp_path, X):
    net = cr.Network([3, 4, 2], random_state=9)
    save(net, tmp_path / "net.crm")
    assert_same_network(net, load(io.BytesIO((tmp_path / "net.crm").read_bytes())), X)


def test_save_and_load_take_binary_file_objects(tmp_path, X):
    net = cr.Network([3, 4, 2], random_state=5)
    buffer = io.BytesIO()
    save(net, buffer)
    buffer.seek(0)
    assert_same_network(net, load(buffer), X)
    with open(tmp_path / "net.crm", "wb") as f:
        save(net, f)
    with open(tmp_path / "net.crm", "rb") as f:
        assert_same_network(net, load(f), X)
