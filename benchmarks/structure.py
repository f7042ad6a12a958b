"""The shape of the code: module sizes, the largest classes and functions, the import graph,
private names reached across modules, the estimators' classes, and the tests' mirror.

Run: ``python benchmarks/structure.py`` (``--limits`` exits 1 if a unit is over the limits of
``docs/architecture.md`` -- a module over 400 lines, a class over 300, a function over 80 --
if a module uses another module's private name, or if a module with logic has no test file at
its mirror path). Every module of ``src/chainrule`` is
measured, Cython's ``.pyx`` and ``.pxd`` files too (their lines only); imports inside functions
count as edges of the graph too. Reported without a limit: the functions over 60 lines, the
private names that cross modules through ``self`` (a mixin's attribute another file's mixin
reads), and each estimator's chainrule classes in method resolution order.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "chainrule"
TESTS = PACKAGE.parent.parent / "tests"
LIMITS = {"module": 400, "class": 300, "function": 80}
#: functions longer than this are listed (a warning, below the limit)
LONG_FUNCTION = 60
#: Cython sources: measured in lines (no Python AST); a .pyx is a module with its own mirror
CYTHON = (".pyx", ".pxd")

#: units allowed over :data:`LIMITS` (``"chainrule.x"`` or ``"chainrule.x:Class.method"``), each
#: with its reason
OVER_LIMIT_EXEMPT: dict[str, str] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> list[Path]:
    """Every source file of the package: Python modules, then Cython's."""
    found = sorted(PACKAGE.rglob("*.py"))
    return found + sorted(p for suffix in CYTHON for p in PACKAGE.rglob(f"*{suffix}"))


def mirror_path(path: Path) -> Path:
    """Where the tests of a source file live: ``src/chainrule/<package>/<module>.py`` ->
    ``tests/<package>/test_<module>.py`` (a leading underscore dropped: ``_arrays.py`` ->
    ``tests/test_arrays.py``); a package's ``__init__.py`` -> ``tests/<package>/test_<package>.py``
    (``chainrule/__init__.py`` -> ``tests/test_chainrule.py``)."""
    folder = path.parent.relative_to(PACKAGE).parts
    stem = (folder[-1] if folder else "chainrule") if path.stem == "__init__" else path.stem
    return TESTS.joinpath(*folder, f"test_{stem.lstrip('_')}.py")


def has_logic(path: Path) -> bool:
    """A module with logic defines a function or a class (a ``.pyx``: a ``def`` or ``cdef``
    function); a module that only re-exports, or only holds constants, has none to test."""
    text = path.read_text()
    if path.suffix == ".pyx":
        return re.search(r"^\s*(?:c?p?def)\s+[\w\[\], ]*\w+\s*\(", text, re.M) is not None
    nodes = ast.walk(ast.parse(text))
    return any(isinstance(n, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) for n in nodes)


def unmirrored_tests() -> list[str]:
    """Test files whose name mirrors no source file (allowed, and listed: end-to-end tests such
    as ``test_browser.py``, the outside references, or the tests of a module that is gone)."""
    mirrored = {mirror_path(path) for path in sources() if path.suffix != ".pxd"}
    return [
        str(path.relative_to(TESTS.parent))
        for path in sorted(TESTS.rglob("test_*.py"))
        if path not in mirrored
    ]


def mirror_misses() -> list[tuple[str, str]]:
    """``(module, expected test file)`` for each module with logic (``.py``, ``.pyx``) whose
    mirror test file does not exist."""
    return [
        (module_name(path), str(mirror_path(path).relative_to(TESTS.parent)))
        for path in sources()
        if path.suffix != ".pxd" and has_logic(path) and not mirror_path(path).is_file()
    ]


def units(tree: ast.AST):
    """``(kind, qualified name, lines)`` of every class and function, nested ones included."""

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                kind = "class" if isinstance(child, ast.ClassDef) else "function"
                name = f"{prefix}{child.name}"
                yield kind, name, child.end_lineno - child.lineno + 1
                yield from walk(child, f"{name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(tree, "")


def imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """The chainrule modules ``module`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("chainrule")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.startswith("chainrule"):
                found.add(target)
    found.discard(module)
    return found


def private_reaches(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, code)`` where a module uses a private name (one leading underscore) of another:
    ``from chainrule.x import _y``, or ``obj._y`` on an object other than ``self``, ``cls``
    or an instance its own class built (``model = cls(...)``)."""
    nodes = list(ast.walk(tree))
    own = {"self", "cls"} | {
        t.id
        for a in nodes
        if isinstance(a, ast.Assign) and isinstance(a.value, ast.Call)
        if ast.unparse(a.value.func) in ("cls", "cls.__new__", "type(self)")
        for t in a.targets
        if isinstance(t, ast.Name)
    }
    found = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and (node.level or "chainrule" in (node.module or "")):
            names = [a.name for a in node.names if is_private(a.name)]
            source = "." * node.level + (node.module or "")
            found += [(node.lineno, f"from {source} import {n}") for n in names]
        elif isinstance(node, ast.Attribute) and is_private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in own):
                found.append((node.lineno, ast.unparse(node)))
    return sorted(set(found))


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def self_privates(tree: ast.AST) -> set[str]:
    """The private names a module reaches through ``self`` (or ``cls``): ``self._x``."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and is_private(node.attr)
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
    }


def crossing_self_privates() -> dict[str, list[str]]:
    """``{name: modules}`` for each private name reached through ``self`` in more than one
    module: the state or the methods that classes in different files share by inheritance
    (a mixin reads what another file's class set)."""
    seen = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in self_privates(ast.parse(path.read_text())):
            seen[name].append(module_name(path))
    return {name: modules for name, modules in sorted(seen.items()) if len(modules) > 1}


def estimator_mros() -> dict[str, list[str]]:
    """``{estimator: chainrule classes of its MRO}`` for each class :mod:`chainrule.estimators`
    exports (imported from this tree's ``src``)."""
    if str(PACKAGE.parent) not in sys.path:
        sys.path.insert(0, str(PACKAGE.parent))
    estimators = importlib.import_module("chainrule.estimators")
    found = {}
    for name in estimators.__all__:
        cls = getattr(estimators, name)
        if isinstance(cls, type):
            mro = [c for c in cls.__mro__ if c.__module__.split(".")[0] == "chainrule"]
            found[name] = [f"{c.__module__}.{c.__qualname__}" for c in mro]
    return found


def survey() -> tuple[list, list, dict]:
    modules, all_units, graph = [], [], defaultdict(set)
    for path in sources():
        name = module_name(path)
        text = path.read_text()
        modules.append((name, len(text.splitlines())))
        if path.suffix in CYTHON:
            continue
        tree = ast.parse(text)
        all_units += [(kind, f"{name}:{unit}", n) for kind, unit, n in units(tree)]
        graph[name] |= imports(tree, name, path.name == "__init__.py")
    return modules, all_units, graph


def reaches() -> list[str]:
    """Every use of another module's private name, as ``module:line: code``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        found += [f"{module_name(path)}:{n}: {code}" for n, code in private_reaches(tree)]
    return found


def packages(modules: list) -> dict[str, tuple[int, int]]:
    """``{package: (modules, lines)}``: each subpackage, and ``chainrule`` for the top-level
    modules."""
    totals: dict[str, tuple[int, int]] = {}
    for name, n in modules:
        parts = name.split(".")
        top = ".".join(parts[:2]) if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else parts[0]
        count, lines = totals.get(top, (0, 0))
        totals[top] = (count + 1, lines + n)
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", action="store_true", help="exit 1 if a unit is too large")
    parser.add_argument("--top", type=int, default=8, help="largest classes and functions shown")
    parser.add_argument("--no-mro", action="store_true", help="skip importing the estimators")
    args = parser.parse_args(argv)
    modules, all_units, graph = survey()
    print("## packages (modules, lines)\n")
    for name, (count, n) in sorted(packages(modules).items(), key=lambda p: -p[1][1]):
        print(f"{count:3d} {n:6d}  {name}")
    print(f"{len(modules):3d} {sum(n for _, n in modules):6d}  in all")
    print("\n## modules (lines)\n")
    for name, n in sorted(modules, key=lambda m: -m[1]):
        print(f"{n:6d}  {name}")
    over = [("module", name, n) for name, n in modules if n > LIMITS["module"]]
    for kind in ("class", "function"):
        print(f"\n## largest {kind}es (lines)\n" if kind == "class" else "\n## largest functions\n")
        ranked = sorted((u for u in all_units if u[0] == kind), key=lambda u: -u[2])
        for _, name, n in ranked[: args.top]:
            print(f"{n:6d}  {name}")
        over += [u for u in ranked if u[2] > LIMITS[kind]]
    long = sorted(
        (u for u in all_units if u[0] == "function" and u[2] > LONG_FUNCTION), key=lambda u: -u[2]
    )
    print(f"\n## functions over {LONG_FUNCTION} lines ({len(long)})\n")
    print("\n".join(f"{n:6d}  {name}" for _, name, n in long) or "none")
    print("\n## imports between chainrule modules (inside functions too)\n")
    for name in sorted(graph):
        if graph[name]:
            print(f"{name} -> {', '.join(sorted(graph[name]))}")
    private = reaches()
    print("\n## private names used across modules\n")
    print("\n".join(private) or "none")
    crossing = crossing_self_privates()
    print(f"\n## private names crossing modules through self ({len(crossing)})\n")
    print("\n".join(f"{name}: {', '.join(m)}" for name, m in crossing.items()) or "none")
    if not args.no_mro:
        print("\n## the estimators' chainrule classes, in method resolution order\n")
        for name, mro in estimator_mros().items():
            print(f"{name} ({len(mro)}): {' -> '.join(c.rsplit('.', 1)[-1] for c in mro)}")
    misses = mirror_misses()
    print(f"\n## modules with logic and no mirror test file ({len(misses)})\n")
    print("\n".join(f"{module}: {test}" for module, test in misses) or "none")
    extra = unmirrored_tests()
    print(f"\n## test files that mirror no source file ({len(extra)})\n")
    print("\n".join(extra) or "none")
    if over:
        print("\n## over the limits\n")
        for kind, name, n in over:
            reason = OVER_LIMIT_EXEMPT.get(name, "NOT EXEMPT")
            print(f"{kind} {name}: {n} lines (limit {LIMITS[kind]}; {reason})")
    over = [unit for unit in over if unit[1] not in OVER_LIMIT_EXEMPT]
    return 1 if args.limits and (over or private or misses) else 0


if __name__ == "__main__":
    sys.exit(main())
