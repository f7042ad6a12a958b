"""Registries keyed by parameter strings (:class:`chainrule._registry.Registry`), on a registry
of its own: names, configs and instances looked up; user objects registered; bad specs named."""

from __future__ import annotations

import pytest

from chainrule._registry import Registry


class Shape:
    def __init__(self, name: str, size: int = 1) -> None:
        self.name, self.size = name, size


@pytest.fixture
def shapes():
    return Registry("shape", Shape, {"dot": lambda size=1: Shape("dot", size)})


def test_a_name_a_config_and_an_instance_give_the_object(shapes):
    assert shapes.get("dot").size == 1 and shapes.get("dot").builtin
    assert shapes.get({"name": "dot", "size": 3}).size == 3
    assert shapes.get({"name": "dot", "size": 3}, size=4).size == 4  # keywords win
    mine = Shape("ring")
    assert shapes.get(mine) is mine


def test_user_objects_register_by_name_but_never_over_a_built_in(shapes):
    ring = Shape("ring")
    shapes.register(ring)
    assert shapes.get("ring") is ring and shapes.names() == ["dot", "ring"]
    with pytest.raises(ValueError, match="'dot' is a built-in shape name"):
        shapes.register(Shape("dot"))
    with pytest.raises(TypeError, match=r"expected a chainrule\.Shape, got str"):
        shapes.register("ring")


def test_unknown_names_and_other_types_are_refused_naming_the_valid_ones(shapes):
    with pytest.raises(ValueError, match=r"unknown shape 'cube'; valid names are \['dot'\]"):
        shapes.get("cube")
    with pytest.raises(TypeError, match=r"shape must be a name or a chainrule\.Shape, got int"):
        shapes.get(3)
