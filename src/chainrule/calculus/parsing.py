"""Safe parsing of untrusted expression strings into sympy expressions.

sympy's own ``sympify`` and ``parse_expr`` *evaluate Python code*: a string such as
``"__import__('os').system('...')"`` handed to them runs.  This module never passes
user text to them.  Instead it

1. caps the length of the string (:data:`MAX_LENGTH` characters),
2. parses it with Python's :mod:`ast` module in ``mode="eval"`` (parsing builds a tree,
   it executes nothing),
3. walks the tree, allowing only a whitelist of node types -- numbers, variable names,
   ``+ - * / **``, unary ``+``/``-`` and calls of the whitelisted functions
   :data:`FUNCTIONS` -- and
4. builds the sympy expression itself, node by node.

Anything else is refused with an :class:`ExpressionError` (a :class:`ValueError`) naming
the offending part.  Numeric powers are capped (``MAX_EXPONENT``, ``MAX_DIGITS`` of
:mod:`chainrule.calculus.limits`) so that ``"9**9**9**9"`` is refused at once instead of
hanging.  Variables become plain ``sympy.Symbol`` objects, the same as a user's own
``sympy.Symbol("x")``, so results mix with the user's sympy.

>>> parse("(x**4 + 2)*cos(x)")
(x**4 + 2)*cos(x)
>>> parse("0.5*x**2")            # decimals are read exactly, as the rational they spell
x**2/2
>>> try:
...     parse("__import__('os').system('echo hi')")
... except ValueError as error:
...     print(str(error).split(". Allowed")[0])
refused "__import__('os').system": only calls of the whitelisted functions are allowed
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from fractions import Fraction

import sympy as sp

from chainrule.calculus.limits import MAX_DEPTH, MAX_DIGITS, MAX_EXPONENT, MAX_LENGTH

__all__ = ["CONSTANTS", "FUNCTIONS", "ExpressionError", "parse"]

#: Whitelisted functions: name -> (sympy function, allowed numbers of arguments).
FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], tuple[int, ...]]] = {
    "sin": (sp.sin, (1,)),
    "cos": (sp.cos, (1,)),
    "tan": (sp.tan, (1,)),
    "exp": (sp.exp, (1,)),
    "log": (sp.log, (1, 2)),  # log(x) natural, log(x, b) base b
    "sqrt": (sp.sqrt, (1,)),
    "tanh": (sp.tanh, (1,)),
    "sinh": (sp.sinh, (1,)),
    "cosh": (sp.cosh, (1,)),
    "asin": (sp.asin, (1,)),
    "acos": (sp.acos, (1,)),
    "atan": (sp.atan, (1,)),
    "abs": (sp.Abs, (1,)),
}

#: Whitelisted named constants.
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

_BINARY = {ast.Add: sp.Add, ast.Sub: None, ast.Mult: sp.Mul, ast.Div: None, ast.Pow: sp.Pow}

_OPERATOR_TEXT = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.Invert: "~",
    ast.Not: "not",
}

_NODE_TEXT = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.Compare: "comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expression",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "generator",
    ast.List: "list",
    ast.Tuple: "tuple",
    ast.Set: "set",
    ast.Dict: "dict",
    ast.JoinedStr: "f-string",
    ast.NamedExpr: "assignment ':='",
    ast.Starred: "'*' unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "slice",
}

_ALLOWED = (
    "numbers, variable names, + - * / **, parentheses, the constants pi and E, "
    "and the functions " + ", ".join(FUNCTIONS)
)


class ExpressionError(ValueError):
    """An expression string was refused: unsafe, unsupported, malformed or too large."""


def parse(text: str, *, max_length: int = MAX_LENGTH) -> sp.Expr:
    """Parse an untrusted string into a sympy expression, through a whitelist.

    Parameters
    ----------
    text : str
        The expression, in Python syntax: ``"x**2 + 3*sin(y)"``.  Powers are written
        ``**`` (``^`` is refused with a hint).
    max_length : int
        Longest string accepted.

    Returns
    -------
    sympy.Expr
        Variables become plain ``sympy.Symbol(name)`` objects (the toolkit treats them
        as real inside, so ``abs(x)`` differentiates to ``sign(x)``, and hands results
        back in these plain symbols).  Decimal numbers become exact rationals
        (``0.5`` -> ``1/2``).

    Raises
    ------
    ExpressionError
        (a ``ValueError``) naming the refused part.

    Examples
    --------
    >>> parse("x**5")
    x**5
    >>> parse("2*x**2 + 4*y")
    2*x**2 + 4*y
    >>> try:
    ...     parse("x^2")
    ... except ValueError as error:
    ...     print(str(error).split(". Allowed")[0])
    refused 'x^2': operator '^' is not allowed (write powers as **, e.g. x**2)
    """
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    if len(text) > max_length:
        raise ExpressionError(
            f"refused: the expression is {len(text)} characters long; the limit is {max_length}"
        )
    source = text.strip()
    if not source:
        raise ExpressionError("refused: the expression is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ExpressionError(
            f"refused {source!r}: not a valid expression ({exc.msg}{where})"
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"refused: could not parse the expression ({exc})") from None
    try:
        expr = _Builder(source).build(tree.body, 0)
    except RecursionError:
        raise ExpressionError("refused: the expression is nested too deeply") from None
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ExpressionError(
            f"refused {source!r}: it is undefined or infinite (division by zero?)"
        )
    return expr


class _Builder:
    """Walks a Python syntax tree and builds the sympy expression, whitelist only."""

    def __init__(self, source: str) -> None:
        self.source = source

    def refuse(self, node: ast.AST, reason: str) -> ExpressionError:
        part = ast.get_source_segment(self.source, node) or type(node).__name__
        if len(part) > 60:
            part = part[:57] + "..."
        return ExpressionError(f"refused {part!r}: {reason}. Allowed: {_ALLOWED}")

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise self.refuse(node, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, (ast.UAdd, ast.USub)):
                operand = self.build(node.operand, depth + 1)
                return -operand if isinstance(node.op, ast.USub) else operand
            text = _OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)
            raise self.refuse(node, f"operator {text!r} is not allowed")
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        what = _NODE_TEXT.get(type(node), type(node).__name__)
        raise self.refuse(node, f"{what} is not allowed")

    def constant(self, node: ast.Constant) -> sp.Expr:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "string" if isinstance(value, (str, bytes)) else type(value).__name__
            raise self.refuse(node, f"a {kind} constant is not allowed (only real numbers)")
        if isinstance(value, int):
            return sp.Integer(value)
        if not math.isfinite(value):
            raise self.refuse(node, "the number is too large")
        exact = Fraction(repr(value))
        return sp.Rational(exact.numerator, exact.denominator)

    def name(self, node: ast.Name) -> sp.Expr:
        ident = node.id
        if ident in CONSTANTS:
            return CONSTANTS[ident]
        if ident in FUNCTIONS:
            raise self.refuse(node, f"function {ident!r} needs an argument: {ident}(...)")
        if not _NAME.match(ident):
            raise self.refuse(
                node,
                f"name {ident!r} is not allowed (variable names are ASCII letters, digits "
                "and underscores, starting with a letter)",
            )
        return sp.Symbol(ident)

    def binop(self, node: ast.BinOp, depth: int) -> sp.Expr:
        op = type(node.op)
        if op not in _BINARY:
            text = _OPERATOR_TEXT.get(op, op.__name__)
            hint = " (write powers as **, e.g. x**2)" if op is ast.BitXor else ""
            raise self.refuse(node, f"operator {text!r} is not allowed{hint}")
        if op is ast.Pow:
            base = self.build(node.left, depth + 1)
            exponent = self.build(node.right, depth + 1)
            self.check_power(node, base, exponent)
            return base**exponent
        # A chain such as a + b - c + ... nests down its left side; walk that side in a
        # loop so that a long flat sum or product does not count as deep nesting.
        group = (ast.Add, ast.Sub) if op in (ast.Add, ast.Sub) else (ast.Mult, ast.Div)
        chain: list[ast.BinOp] = []
        left: ast.AST = node
        while isinstance(left, ast.BinOp) and isinstance(left.op, group):
            chain.append(left)
            left = left.left
        result = self.build(left, depth + 1)
        for link in reversed(chain):
            right = self.build(link.right, depth + 1)
            if isinstance(link.op, ast.Add):
                result = result + right
            elif isinstance(link.op, ast.Sub):
                result = result - right
            elif isinstance(link.op, ast.Mult):
                result = result * right
            else:
                result = result / right
        return result

    def check_power(self, node: ast.BinOp, base: sp.Expr, exponent: sp.Expr) -> None:
        if not exponent.is_Number:
            return
        if abs(exponent) > MAX_EXPONENT:
            raise self.refuse(node, f"exponents are limited to {MAX_EXPONENT} in size")
        if base.is_Rational and base != 0 and exponent != 0:
            p, q = base.as_numer_denom()
            digits = float(abs(exponent)) * max(math.log10(abs(int(p))), math.log10(int(q)))
            if digits > MAX_DIGITS:
                raise self.refuse(node, f"the number would have more than {MAX_DIGITS} digits")

    def call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            if isinstance(node.func, ast.Name):
                reason = f"function {node.func.id!r} is not allowed"
            else:
                reason = "only calls of the whitelisted functions are allowed"
            raise self.refuse(node.func, reason)
        name = node.func.id
        if node.keywords:
            raise self.refuse(node, f"{name}() takes no keyword arguments")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.refuse(arg, "'*' unpacking is not allowed")
        function, arities = FUNCTIONS[name]
        if len(node.args) not in arities:
            wanted = " or ".join(str(a) for a in arities)
            raise self.refuse(node, f"{name}() takes {wanted} argument(s), got {len(node.args)}")
        args = [self.build(arg, depth + 1) for arg in node.args]
        return function(*args)
