"""Safe evaluation of a step's ``if:`` expression.

The language is a small, whitelisted subset of Python expressions::

    kind == 'major' and not emergency
    environment in ('staging', 'production')
    version >= '2.0' or flags.new_checkout
    changed('migrations/*') or changed('*.sql')

Names: ``kind``, ``version``, ``environment``, ``emergency`` (and ``true``/``false``),
attributes ``flags.NAME`` (an unset flag is false), the call ``changed('glob')`` (true if
any changed path matches), string/number/bool literals, tuples and lists of literals,
comparisons, ``and``/``or``/``not``. Ordering comparisons with ``version`` compare version
numbers (``'1.10' > '1.9'``). Everything else is refused when the config is loaded.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from releasegate.config.models import KINDS
from releasegate.config.release import Release
from releasegate.config.timespec import did_you_mean

NAMES = ("kind", "version", "environment", "emergency")
_CONSTANTS = {"true": True, "false": False, "True": True, "False": False}
_MAX_LENGTH = 1000
_COMPARE: dict[type[ast.cmpop], Callable[[object, object], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: lambda a, b: bool(a < b),  # type: ignore[operator]
    ast.LtE: lambda a, b: bool(a <= b),  # type: ignore[operator]
    ast.Gt: lambda a, b: bool(a > b),  # type: ignore[operator]
    ast.GtE: lambda a, b: bool(a >= b),  # type: ignore[operator]
    ast.In: lambda a, b: operator.contains(b, a),  # type: ignore[arg-type]
    ast.NotIn: lambda a, b: not operator.contains(b, a),  # type: ignore[arg-type]
}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


@dataclass(frozen=True)
class Condition:
    """A compiled ``if:`` expression; :meth:`evaluate` it against a release."""

    text: str
    _tree: ast.expr

    def evaluate(self, release: Release) -> bool:
        """Whether the step should run for ``release``."""
        return bool(_eval(self._tree, release))


def compile_condition(text: str) -> Condition:
    """Parse and check ``text``; a ValueError says clearly what is not allowed."""
    if len(text) > _MAX_LENGTH:
        raise ValueError(f"the expression is longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"{_show(text)} is not a valid expression ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise ValueError(f"{_show(text)} is not a valid expression") from None
    _check(tree.body)
    return Condition(text, tree.body)


def _show(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:56] + "...'"


def _check(node: ast.expr) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise ValueError(
                    f"the operator {type(op).__name__} is not allowed (use ==, !=, <, <=, >, >=, in, not in)"
                )
        for part in [node.left, *node.comparators]:
            _check(part)
        _check_kinds(node)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool):
            raise ValueError(f"the literal {node.value!r} is not allowed")
    elif isinstance(node, ast.Tuple | ast.List):
        for item in node.elts:
            if not isinstance(item, ast.Constant):
                raise ValueError("lists may hold only literals, e.g. ('major', 'hotfix')")
            _check(item)
    elif isinstance(node, ast.Name):
        if node.id not in NAMES and node.id not in _CONSTANTS:
            known = [*NAMES, "flags", "changed"]
            raise ValueError(
                f"unknown name {node.id!r}{did_you_mean(node.id, known)} (known: {', '.join(known)})"
            )
    elif isinstance(node, ast.Attribute):
        if not (isinstance(node.value, ast.Name) and node.value.id == "flags"):
            raise ValueError("only flags.NAME may use a dot")
    elif isinstance(node, ast.Call):
        if not (
            isinstance(node.func, ast.Name)
            and node.func.id == "changed"
            and len(node.args) == 1
            and not node.keywords
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            raise ValueError("the only call allowed is changed('glob') with one quoted pattern")
    else:
        raise ValueError(f"{ast.unparse(node)!r} is not allowed in a condition")


def _check_kinds(node: ast.Compare) -> None:
    """``kind == 'majr'`` can never be true: say so when the config is loaded."""
    parts = [node.left, *node.comparators]
    if not any(isinstance(p, ast.Name) and p.id == "kind" for p in parts):
        return
    for part in parts:
        literals = part.elts if isinstance(part, ast.Tuple | ast.List) else [part]
        for lit in literals:
            if (
                isinstance(lit, ast.Constant)
                and isinstance(lit.value, str)
                and lit.value not in KINDS
            ):
                raise ValueError(
                    f"{lit.value!r} is not a release kind{did_you_mean(lit.value, KINDS)}"
                    f" (kinds: {', '.join(KINDS)})"
                )


def _eval(node: ast.expr, release: Release) -> object:
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_eval(v, release) for v in node.values)
        return any(_eval(v, release) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return not _eval(node.operand, release)
    if isinstance(node, ast.Compare):
        return _compare(node, release)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_eval(item, release) for item in node.elts)
    if isinstance(node, ast.Name):
        return _name(node.id, release)
    if isinstance(node, ast.Attribute):
        return bool(release.flags.get(node.attr, False))
    if isinstance(node, ast.Call):
        pattern = node.args[0]
        assert isinstance(pattern, ast.Constant)
        if release.changed_paths is None:  # unknown: a conditional step runs rather than hides
            return True
        return any(fnmatchcase(path, str(pattern.value)) for path in release.changed_paths)
    raise AssertionError(f"unchecked node {type(node).__name__}")  # _check refused it


def _name(name: str, release: Release) -> object:
    if name in _CONSTANTS:
        return _CONSTANTS[name]
    if name == "emergency":
        return release.emergency or bool(release.flags.get("emergency", False))
    return getattr(release, name)


def _compare(node: ast.Compare, release: Release) -> bool:
    left_node, left = node.left, _eval(node.left, release)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _eval(right_node, release)
        a, b = left, right
        if isinstance(op, _ORDERING) and _is_version(left_node, right_node):
            a, b = _version_key(str(left)), _version_key(str(right))
        try:
            if not _COMPARE[type(op)](a, b):
                return False
        except TypeError:  # '2' < 3: different types never compare true
            return False
        left_node, left = right_node, right
    return True


def _is_version(*nodes: ast.expr) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "version" for n in nodes)


def _version_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """``v1.10.0-rc1`` → ((0, 1), (0, 10), (0, 0), (1, 'rc'), (0, 1)): numbers compare as numbers."""
    parts = re.findall(r"\d+|[A-Za-z]+", text.removeprefix("v"))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)
