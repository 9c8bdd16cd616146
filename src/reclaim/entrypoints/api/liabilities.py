"""The proof-of-liabilities API: the latest signed statement, and a creditor's own proof.

Endpoints (``install(app, service)``, called by ``create_app``, includes ``router`` and keeps the
service in ``app.state.liabilities``; an app made without a service has neither):

- ``GET /liabilities/root``: the latest snapshot's public statement, exactly as stored
  (``LiabilitiesStatement.to_json``, canonical JSON): ``format``, ``statement`` (the signed
  note), ``origin``, ``snapshot`` (its id), ``checkpoint`` (``size``, ``root``: the log
  checkpoint it was computed at) and ``assets`` (``asset``, ``total``, ``leaf_count``, ``root``
  per asset); integers as decimal strings. ``404 not_found`` before the first snapshot.
- ``GET /liabilities/proof?asset=USD``: the proof (``reclaim-liability-proof/v1``, canonical
  JSON: the file ``reclaim verify-liabilities`` checks) that the authenticated actor's liability
  in ``asset`` is counted in the latest statement. A signed request (``AuthenticatedActor``,
  instruction ``liabilityProofQuery``); ``404 not_found`` if the actor is owed nothing in that
  asset (a zero balance has no leaf) or no snapshot was taken yet.

Both answers change with each snapshot: ``no-cache`` for the statement, ``no-store`` for a
proof (it is one creditor's). The route functions parse and render; ``LiabilitiesService``
decides.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, FastAPI, Query, Request, Response
from pydantic import Field

from reclaim.app.liabilities import LiabilitiesService, NoSnapshotError
from reclaim.entrypoints.api import auth
from reclaim.entrypoints.api.auth import AuthenticatedActor
from reclaim.entrypoints.api.deps import NO_CACHE, NO_STORE, json_answer
from reclaim.entrypoints.api.problems import NotFoundError
from reclaim.entrypoints.api.schemas import Base64Hash, DecimalString, Public, problem_answers
from reclaim.entrypoints.routing import Router
from reclaim.log.liabilities.errors import LiabilityNotFoundError
from reclaim.log.liabilities.proof import proof_to_json

#: The instruction a client signs to ask for its proof (Backpack-style request signing).
PROOF_INSTRUCTION: Final = "liabilityProofQuery"
#: An asset code, as in a statement line.
ASSET_PATTERN: Final = "^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"

router = Router(prefix="/liabilities", tags=["liabilities"])


# Public shapes (for the OpenAPI document; the answers are the stored canonical bytes) ----------


class StatementCheckpoint(Public):
    size: DecimalString = Field(description="the tree size of the log checkpoint")
    root: Base64Hash = Field(description="the log's root hash at that size")


class AssetLine(Public):
    asset: str = Field(description="the asset code")
    total: DecimalString = Field(description="what is owed in this asset, in minor units")
    leaf_count: DecimalString = Field(description="creditors owed something in this asset")
    root: Base64Hash = Field(description="the root of the asset's Merkle sum tree")


class LiabilitiesRoot(Public):
    """The latest signed liabilities statement, its fields spelled out."""

    format: str = Field(description="reclaim-liabilities/v1")
    statement: str = Field(description="the C2SP signed note of the statement, by the log key")
    origin: str
    snapshot: str = Field(description="the snapshot id: its checkpoint's tree size")
    checkpoint: StatementCheckpoint
    assets: list[AssetLine]


class LiabilityProofDocument(Public):
    """A creditor's proof; check it offline with ``reclaim verify-liabilities``."""

    format: str = Field(description="reclaim-liability-proof/v1")
    statement: str = Field(description="the signed statement the proof is for")
    account: str = Field(description="the creditor (the owner of the accounts)")
    asset: str
    balance: DecimalString = Field(description="what is owed to the creditor, minor units")
    salt: str = Field(description="the leaf's salt, base64")
    index: DecimalString = Field(description="the leaf's index in the asset's tree")
    path: list[str] = Field(description="the path steps, leaf upwards, base64 of 48 bytes each")


# Dependencies and routes ----------------------------------------------------------------------


def install(app: FastAPI, service: LiabilitiesService | None) -> None:
    """Serve ``service``'s snapshots and proofs from ``app`` (whose ``state.log`` is set); with
    no service, nothing."""
    if service is None:
        return
    app.state.liabilities = service
    auth.install(app)
    app.include_router(router)


def get_liabilities(request: Request) -> LiabilitiesService:
    service = request.app.state.liabilities
    assert isinstance(service, LiabilitiesService), "install stores the LiabilitiesService"
    return service


LiabilitiesDep = Annotated[LiabilitiesService, Depends(get_liabilities)]

_PROBLEMS: Final = problem_answers({404: "no snapshot yet, or nothing owed (`not_found`)"})


@router.get(
    "/root",
    response_class=Response,
    responses={200: {"model": LiabilitiesRoot, "description": "canonical JSON"}, **_PROBLEMS},
)
def get_liabilities_root(service: LiabilitiesDep) -> Response:
    """The latest signed liabilities statement: root and total per asset, and the checkpoint."""
    record = service.latest()
    if record is None:
        raise NotFoundError("no liabilities snapshot has been taken yet")
    return json_answer(record.public_json, NO_CACHE)


@router.get(
    "/proof",
    response_class=Response,
    openapi_extra=auth.instruction(PROOF_INSTRUCTION),
    responses={
        200: {"model": LiabilityProofDocument, "description": "canonical JSON"},
        **_PROBLEMS,
    },
)
def get_liability_proof(
    service: LiabilitiesDep,
    actor: AuthenticatedActor,
    asset: Annotated[str, Query(pattern=ASSET_PATTERN, description="the asset, e.g. USD")],
) -> Response:
    """The proof that what the signed-in creditor is owed in ``asset`` is in the signed total."""
    try:
        proof = service.proof(actor, asset)
    except (NoSnapshotError, LiabilityNotFoundError) as exc:
        raise NotFoundError(str(exc)) from exc
    return json_answer(proof_to_json(proof), NO_STORE)
