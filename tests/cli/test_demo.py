"""``chainrule demo xor`` (:mod:`chainrule.cli.demo`): the seed's XOR run and its table."""

from __future__ import annotations

from commands import run


def test_demo_xor_prints_the_seed_table():
    lines = run("demo", "xor").stdout.splitlines()
    table = lines[lines.index("Input\tOutput\tQuantized") + 1 :]
    assert [row.split("\t")[2] for row in table] == ["[0]", "[1]", "[1]", "[0]"]
