"""The shape of the code (docs/architecture.md): small units, and imports only going down."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: units allowed over the limits of docs/architecture.md (``"chainrule.x"`` or
#: ``"chainrule.x:Class.method"``), each with its reason: none
EXCEPTIONS: dict[str, str] = {}


def structure():
    spec = importlib.util.spec_from_file_location("structure", ROOT / "benchmarks/structure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_module_is_measured():
    modules, _, _ = structure().survey()
    names = {name for name, _ in modules}
    assert len(names) == len(list((ROOT / "src/chainrule").rglob("*.py")))
    for package in ("calculus", "cli", "persistence", "plotting", "export", "playground", "scale"):
        assert f"chainrule.{package}" in names


def test_no_module_class_or_function_over_the_limits():
    s = structure()
    modules, units, _ = s.survey()
    over = [("module", name, n) for name, n in modules if n > s.LIMITS["module"]]
    over += [unit for unit in units if unit[2] > s.LIMITS[unit[0]]]
    assert [unit for unit in over if unit[1] not in EXCEPTIONS] == []


def test_the_limits_are_found():
    s = structure()
    tree = ast.parse("class A:\n" + "    x = 1\n" * 300 + "def f():\n" + "    pass\n" * 80)
    assert {(kind, name, n) for kind, name, n in s.units(tree)} == {
        ("class", "A", 301),
        ("function", "f", 81),
    }


def test_no_module_uses_another_modules_private_names():
    s = structure()
    assert s.reaches() == []
    code = (
        "from chainrule.network import _x\n"
        "def f(net):\n"
        "    return net._output_delta()\n"
        "class A:\n"
        "    @classmethod\n"
        "    def load(cls):\n"
        "        model = cls()\n"
        "        return model._restore(), cls._hook, A._other\n"
    )
    assert [line for line, _ in s.private_reaches(ast.parse(code))] == [1, 3, 8]


def test_optimizers_and_rules_import_no_engine():
    _, _, graph = structure().survey()
    for rule in ("chainrule.optimizers", "chainrule.activations", "chainrule.costs"):
        assert not {m for m in graph[rule] if m.startswith(("chainrule.engine", "chainrule.net"))}
    # the reference engine: the rules it composes and the array plumbing (chainrule._arrays)
    allowed = {"chainrule.activations", "chainrule.costs", "chainrule._arrays"}
    assert graph["chainrule.engine.reference"] <= allowed


def test_the_import_contracts_hold():
    pytest.importorskip("importlinter")
    lint = shutil.which("lint-imports")
    assert lint is not None, "import-linter is installed but lint-imports is not on PATH"
    out = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
