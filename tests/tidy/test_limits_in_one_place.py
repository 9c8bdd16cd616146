"""Every bound lives in ``reclaim/core/limits.py``, with its reason (STYLE.md: ``*_max`` constants
in one ``limits.py``, each with a why).

The rule, exactly: a *bound* is a module-level name bound by an assignment (``x = ...`` or
``x: T = ...``, also inside a module-level ``if``/``try``/``with``) whose name has ``max`` as one
of its underscore-separated words, in any case (``lines_per_event_max``, ``event_size_max_bytes``,
``PAGE_MAX``, ``_MAX``, ``max_items``; not ``maximum`` or ``relax``). No module under ``src/``
but ``core/limits.py`` defines one. Importing one is allowed, also under another name
(``from reclaim.core.limits import integer_max`` or ``... import sepa_payments_per_file_max as
payments_max``): a re-export is not a definition. Names inside functions and classes are not
module-level and are not checked (a local ``size_max = limits.x`` is a use, not a new bound).

In ``core/limits.py`` itself every bound has a ``#:`` comment right above it that says why it
has that value.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

SRC: Final = Path(__file__).resolve().parents[2] / "src" / "reclaim"
LIMITS: Final = "core/limits.py"
BOUND_NAME: Final = re.compile(r"(?:^|_)max(?:_|$)", re.IGNORECASE)


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.With):
            yield from _module_level(node.body)
            yield from _module_level(getattr(node, "orelse", []))
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level(block)
            for handler in node.handlers:
                yield from _module_level(handler.body)


def _names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _names(element)
    elif isinstance(target, ast.Starred):
        yield from _names(target.value)


def bounds_defined(source: str) -> list[tuple[int, str]]:
    """(line, name) of every bound the module defines, by the rule of the module docstring."""
    found: list[tuple[int, str]] = []
    for node in _module_level(ast.parse(source).body):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        else:
            continue
        found += [(node.lineno, n) for t in targets for n in _names(t) if BOUND_NAME.search(n)]
    return found


def test_the_rule_reads_names_as_described() -> None:
    source = (
        "import x\nfrom reclaim.core.limits import integer_max as SUM_MAX\n"
        "a_max = 1\nb_max_bytes: int = 2\nPAGE_MAX = 3\n_MAX = 4\nmax_items = 5\n"
        "maximum = 6\nrelax = 7\nif x:\n    c_max = 8\n"
        "def f() -> None:\n    local_max = 9\nclass C:\n    field_max = 10\n"
    )
    assert bounds_defined(source) == [
        (3, "a_max"),
        (4, "b_max_bytes"),
        (5, "PAGE_MAX"),
        (6, "_MAX"),
        (7, "max_items"),
        (11, "c_max"),
    ]


def test_no_bound_is_defined_outside_core_limits() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert files, f"no source files under {SRC}"
    offenders = [
        f"{path.relative_to(SRC).as_posix()}:{line}: {name}"
        for path in files
        if path.relative_to(SRC).as_posix() != LIMITS
        for line, name in bounds_defined(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], (
        "move these bounds to reclaim/core/limits.py with a '#:' reason and import them: "
        + "; ".join(offenders)
    )


def test_every_bound_in_limits_has_its_reason() -> None:
    source = (SRC / LIMITS).read_text(encoding="utf-8")
    lines = source.splitlines()
    bounds = bounds_defined(source)
    assert len(bounds) > 100, "core/limits.py holds every bound of reclaim"
    missing = [name for line, name in bounds if not lines[line - 2].lstrip().startswith("#:")]
    assert missing == [], f"give these bounds a '#:' reason right above them: {missing}"


def test_limits_names_each_bound_once() -> None:
    names = [name for _, name in bounds_defined((SRC / LIMITS).read_text(encoding="utf-8"))]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})
