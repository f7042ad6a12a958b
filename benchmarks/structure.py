"""The shape of the code: module sizes, the largest classes and functions, the import graph.

Run: ``python benchmarks/structure.py`` (``--limits`` exits 1 if a unit is over the limits of
``docs/architecture.md``: a module over 400 lines, a class over 300, a function over 80).
Imports inside functions count as edges of the graph too.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", action="store_true", help="exit 1 if a unit is too large")
    parser.add_argument("--top", type=int, default=8, help="largest classes and functions shown")
    args = parser.parse_args()
    modules, all_units, graph = survey()
    print("## modules (lines)\n")
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
    if over:
        print("\n## over the limits\n")
        for kind, name, n in over:
            print(f"{kind} {name}: {n} lines (limit {LIMITS[kind]})")
    return 1 if args.limits and over else 0


if __name__ == "__main__":
    sys.exit(main())
