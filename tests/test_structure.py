"""The shape of the code (docs/architecture.md): small units, and imports only going down."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: the modules of the engine, training and estimators redesign (issue 11); the other modules
#: are split by their own issues
REDESIGNED = (
    "chainrule.engine",
    "chainrule.training",
    "chainrule.estimators",
    "chainrule.network",
    "chainrule.activations",
    "chainrule.costs",
    "chainrule.optimizers",
    "chainrule.initializers",
    "chainrule.gradcheck",
    "chainrule._checks",
    "chainrule._registry",
)


def structure():
    spec = importlib.util.spec_from_file_location("structure", ROOT / "benchmarks/structure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def redesigned(name: str) -> bool:
    return any(
        name == p or name.startswith(f"{p}.") or name.startswith(f"{p}:") for p in REDESIGNED
    )


def test_no_module_class_or_function_over_the_limits():
    s = structure()
    modules, units, _ = s.survey()
    over = [(name, n) for name, n in modules if redesigned(name) and n > s.LIMITS["module"]]
    over += [(name, n) for kind, name, n in units if redesigned(name) and n > s.LIMITS[kind]]
    assert over == []


def test_optimizers_and_rules_import_no_engine():
    _, _, graph = structure().survey()
    for rule in ("chainrule.optimizers", "chainrule.activations", "chainrule.costs"):
        assert not {m for m in graph[rule] if m.startswith(("chainrule.engine", "chainrule.net"))}
    assert graph["chainrule.engine.reference"] <= {"chainrule.activations", "chainrule.costs"}


def test_the_import_contracts_hold():
    pytest.importorskip("importlinter")
    lint = shutil.which("lint-imports")
    assert lint is not None, "import-linter is installed but lint-imports is not on PATH"
    out = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
