"""The shape of the code: module sizes, the largest classes and functions, the import graph,
and private names reached across modules.

Run: ``python benchmarks/structure.py`` (``--limits`` exits 1 if a unit is over the limits of
``docs/architecture.md`` -- a module over 400 lines, a class over 300, a function over 80 --
or if a module uses another module's private name). Every module of ``src/chainrule`` is
measured; imports inside functions count as edges of the graph too.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "chainrule"
LIMITS = {"module": 400, "class": 300, "function": 80}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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


def survey() -> tuple[list, list, dict]:
    modules, all_units, graph = [], [], defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        text = path.read_text()
        tree = ast.parse(text)
        modules.append((name, len(text.splitlines())))
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", action="store_true", help="exit 1 if a unit is too large")
    parser.add_argument("--top", type=int, default=8, help="largest classes and functions shown")
    args = parser.parse_args()
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
    print("\n## imports between chainrule modules (inside functions too)\n")
    for name in sorted(graph):
        if graph[name]:
            print(f"{name} -> {', '.join(sorted(graph[name]))}")
    private = reaches()
    print("\n## private names used across modules\n")
    print("\n".join(private) or "none")
    if over:
        print("\n## over the limits\n")
        for kind, name, n in over:
            print(f"{kind} {name}: {n} lines (limit {LIMITS[kind]})")
    return 1 if args.limits and (over or private) else 0


if __name__ == "__main__":
    sys.exit(main())
