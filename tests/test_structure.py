"""The shape of the code (docs/architecture.md): small units, and imports only going down."""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def structure():
    spec = importlib.util.spec_from_file_location("structure", ROOT / "benchmarks/structure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_module_is_measured():
    modules, _, _ = structure().survey()
    names = {name for name, _ in modules}
    package = ROOT / "src/chainrule"
    files = [p for suffix in ("py", "pyx", "pxd") for p in package.rglob(f"*.{suffix}")]
    assert len(names) == len(files)
    for package in ("calculus", "cli", "persistence", "plotting", "export", "playground", "scale"):
        assert f"chainrule.{package}" in names


def test_cython_files_count_against_the_module_limit():
    modules, _, _ = structure().survey()
    native = ROOT / "src/chainrule/engine/native.pyx"
    assert dict(modules)["chainrule.engine.native"] == len(native.read_text().splitlines())


def test_no_module_class_or_function_over_the_limits():
    s = structure()
    modules, units, _ = s.survey()
    over = [("module", name, n) for name, n in modules if n > s.LIMITS["module"]]
    over += [unit for unit in units if unit[2] > s.LIMITS[unit[0]]]
    assert [unit for unit in over if unit[1] not in s.OVER_LIMIT_EXEMPT] == []


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


def test_private_names_crossing_modules_through_self_are_found():
    s = structure()
    code = (
        "class A:\n"
        "    def f(self, other):\n"
        "        self._x = other._y + self.__dunder + self.public\n"
        "    @classmethod\n"
        "    def g(cls):\n"
        "        return cls._z\n"
    )
    assert s.self_privates(ast.parse(code)) == {"_x", "_z"}
    crossing = s.crossing_self_privates()
    assert all(len(modules) == len(set(modules)) > 1 for modules in crossing.values())
    # every name found really is reached through self in each module listed
    for name, modules in crossing.items():
        for module in modules:
            path = s.PACKAGE.parent / (module.replace(".", "/") + ".py")
            path = path if path.exists() else path.with_suffix("") / "__init__.py"
            assert name in s.self_privates(ast.parse(path.read_text()))


def test_the_estimators_mro_lists_their_chainrule_classes():
    mros = structure().estimator_mros()
    for name in ("MLPClassifier", "MLPRegressor"):
        mro = mros[name]
        assert mro[0] == f"chainrule.estimators.{name[3:].lower()}.{name}"
        assert all(cls.startswith("chainrule.") for cls in mro)
        assert len(mro) == len(set(mro)) >= 1


def test_the_report_lists_long_functions_mro_and_mirror_misses(capsys):
    s = structure()
    assert s.main([]) == 0
    out = capsys.readouterr().out
    _, units, _ = s.survey()
    long = [name for kind, name, n in units if kind == "function" and n > s.LONG_FUNCTION]
    assert f"## functions over {s.LONG_FUNCTION} lines ({len(long)})" in out
    assert all(name in out for name in long)
    assert "MLPClassifier (" in out and "MLPRegressor (" in out
    assert "## private names crossing modules through self" in out
    assert "## modules with logic and no mirror test file" in out


@pytest.mark.parametrize(
    ("source", "test"),
    [
        ("estimators/base.py", "estimators/test_base.py"),
        ("_arrays.py", "test_arrays.py"),
        ("optimizers.py", "test_optimizers.py"),
        ("datasets/__init__.py", "datasets/test_datasets.py"),
        ("__init__.py", "test_chainrule.py"),
        ("engine/native.pyx", "engine/test_native.py"),
    ],
)
def test_each_source_file_has_one_mirror_path(source, test):
    s = structure()
    assert s.mirror_path(s.PACKAGE / source) == ROOT / "tests" / test


def test_modules_with_logic_define_a_function_or_a_class(tmp_path):
    s = structure()
    cases = {
        "reexports.py": ("from chainrule.x import y\n__all__ = ['y']\n", False),
        "constants.py": ("LIMIT = 4\n", False),
        "code.py": ("def f():\n    return 1\n", True),
        "kernel.pyx": ("cdef inline double twice(double x) nogil:\n    return 2 * x\n", True),
        "declarations.pyx": ("cdef extern from 'x.h':\n    pass\n", False),
    }
    for name, (text, logic) in cases.items():
        (tmp_path / name).write_text(text)
        assert s.has_logic(tmp_path / name) is logic, name


def test_every_module_with_logic_has_its_mirror_test_file():
    s = structure()
    misses = dict(s.mirror_misses())
    assert misses == {}
    # a module that gets its mirror file is found as no longer missing
    assert "chainrule.activations" not in misses and (ROOT / "tests/test_activations.py").exists()


def test_limits_fail_on_a_new_miss(monkeypatch, tmp_path, capsys):
    s = structure()
    assert s.main(["--limits", "--no-mro"]) == 0
    monkeypatch.setattr(s, "TESTS", tmp_path)  # no test file anywhere: every module misses
    assert s.main(["--limits", "--no-mro"]) == 1
    assert f"chainrule.network: {tmp_path.name}/test_network.py" in capsys.readouterr().out


def test_test_files_that_mirror_no_source_file_are_listed():
    s = structure()
    extra = s.unmirrored_tests()
    assert "tests/sklearn/test_steps.py" in extra and "tests/test_structure.py" in extra
    assert "tests/test_network.py" not in extra and "tests/training/test_loop.py" not in extra
