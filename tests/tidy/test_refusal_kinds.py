"""Every code of every code enum has a kind, an HTTP status and a problem+json ``code``.

The enums are found, not listed: every ``enum.Enum`` subclass named ``*Code`` in a ``codes``
module of the core, in ``reclaim.app.refusals`` or in ``reclaim.app.withdrawal_ports``. Each
member that refuses (not an accepting answer: ``ok``, ``exists``...) must have exactly one kind,
and the API must answer it with the status of that kind (the one table, documented in
``reclaim.core.kinds``) and with the member's name as the problem's ``code``. A refusal is also
rendered through the real FastAPI handlers, as a route raising it would be.
"""

from __future__ import annotations

import ast
import enum
import importlib
import pkgutil
from pathlib import Path
from typing import Final

import pytest
from fastapi import FastAPI

import reclaim
from reclaim.app.refusals import KINDS, Refused, kind_of
from reclaim.core.kinds import Kind
from reclaim.entrypoints.api import problems
from tests.api.conftest import TestClient

#: The mapping documented in ``reclaim.core.kinds`` (its table), restated here on purpose.
DOCUMENTED: Final = {
    Kind.bad_input: 400,
    Kind.forbidden: 403,
    Kind.not_found: 404,
    Kind.conflict: 409,
    Kind.unavailable: 503,
}
SRC: Final = Path(reclaim.__file__).parent


def _code_modules() -> list[str]:
    names = ["reclaim.core.rejections", "reclaim.app.refusals", "reclaim.app.withdrawal_ports"]
    for info in pkgutil.walk_packages([str(SRC / "core")], "reclaim.core."):
        if info.name.rsplit(".", 1)[-1] == "codes":
            names.append(info.name)
    return sorted(names)


def _enums() -> tuple[list[type[enum.Enum]], frozenset[enum.Enum]]:
    """Every code enum, and every answer their modules say accepts (``ACCEPTED``)."""
    found: list[type[enum.Enum]] = []
    accepted: set[enum.Enum] = set()
    for name in _code_modules():
        module = importlib.import_module(name)
        accepted |= set(getattr(module, "ACCEPTED", ()))
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, enum.Enum)
                and value.__module__ == module.__name__
                and (value.__name__.endswith("Code") or value.__name__ == "Code")
            ):
                found.append(value)
    return found, frozenset(accepted)


ENUMS, ACCEPTED = _enums()


def _refusals() -> list[enum.Enum]:
    members = [m for cls in ENUMS for m in cls if m not in ACCEPTED]
    return sorted(members, key=lambda m: (type(m).__module__, type(m).__name__, m.value))


def test_the_walk_finds_every_family_of_codes() -> None:
    names = {f"{cls.__module__}.{cls.__name__}" for cls in ENUMS}
    for expected in (
        "reclaim.core.rejections.Code",
        "reclaim.core.ledger.codes.TransferCode",
        "reclaim.core.claims.codes.LinkCode",
        "reclaim.core.distribution.codes.DistributionCode",
        "reclaim.core.withdrawals.codes.RequestCode",
        "reclaim.core.market.codes.OrderCode",
        "reclaim.core.notes.codes.ConvertCode",
        "reclaim.app.refusals.OnboardingCode",
        "reclaim.app.refusals.WithdrawalServiceCode",
        "reclaim.app.withdrawal_ports.BeneficiaryCode",
    ):
        assert expected in names


@pytest.mark.parametrize("code", _refusals(), ids=lambda m: f"{type(m).__name__}.{m.name}")
def test_each_refusal_has_a_kind_a_status_and_its_name(code: enum.Enum) -> None:
    assert code in KINDS, f"{type(code).__name__}.{code.name} has no kind"
    kind = kind_of(code)
    assert isinstance(kind, Kind)
    problem = problems.refusal_kind(Refused(code, "why"))
    assert problem.status == DOCUMENTED[kind]
    assert problem.code == code.name


def test_every_table_entry_is_a_refusal_of_a_walked_enum() -> None:
    walked = {m for cls in ENUMS for m in cls}
    assert set(KINDS) <= walked
    assert not set(KINDS) & ACCEPTED, "an accepting answer has no kind"


def test_the_one_status_table_is_the_documented_one() -> None:
    assert dict(problems.STATUS_OF_KIND) == DOCUMENTED


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    problems.install(app)
    samples = {kind: next(m for m in KINDS if KINDS[m] is kind) for kind in Kind}

    @app.get("/refuse/{kind}")
    def refuse(kind: str) -> None:
        code = samples[Kind(kind)]
        raise problems.refused_error(Refused(code, f"a {kind} refusal"))

    return TestClient(app)


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.name)
def test_a_raised_refusal_is_problem_json_with_its_status_and_code(
    client: TestClient, kind: Kind
) -> None:
    answer = client.get(f"/refuse/{kind.value}")
    assert answer.status_code == DOCUMENTED[kind]
    assert answer.headers["content-type"] == problems.PROBLEM_MEDIA_TYPE
    body = answer.json()
    code = next(m for m in KINDS if KINDS[m] is kind)
    assert (body["status"], body["code"], body["detail"]) == (
        DOCUMENTED[kind], code.name, f"a {kind.value} refusal",
    )  # fmt: skip
    assert body["type"] == problems.TYPE_PREFIX + code.name


def test_no_refusal_is_parsed_back_from_text() -> None:
    """The string parsers and the routers' code sets are gone: no ``.partition(":")`` of a
    refusal's text, and no module-level set of code names in the API's routers."""
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "partition"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == ":"
                and "detail" in ast.unparse(node.func.value)
            ):
                pytest.fail(f"{path.relative_to(SRC)}:{node.lineno} parses a refusal's text")
    for path in (SRC / "entrypoints" / "api").glob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for name in ("_BAD_INPUT", "_FORBIDDEN", "_MALFORMED", "_UNAVAILABLE", "_NOT_FOUND"):
            kept = [line for line in lines if line.startswith(f"{name}: Final = frozenset")]
            assert not kept, f"{path.name} keeps a status set {name}"
