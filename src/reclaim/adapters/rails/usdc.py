"""USDC to an allow-listed address: EIP-55 checks (eth-utils) and the custody desk's CSV.

A destination is one field, ``address``, accepted only when it is

1. a 20-byte hex address (``0x`` and 40 hex digits);
2. written in its **EIP-55 checksummed** form (the case of each letter is set by the
   Keccak-256 of the address; checked by ``eth-utils`` over the ``eth-hash`` pycryptodome
   backend): an address typed in one case whose checksummed form is mixed carries no check, so
   a typo could not be caught — it is refused (``address_not_checksummed``), never "fixed"
   (the rare address whose checksummed form is all one case is accepted, as EIP-55 says);
3. on the operator's **allow-list** (addresses the operator verified belong to the creditor, e.g.
   by a signed message or a test transfer): any other is ``address_not_allowed``.

Canonical text: the checksummed address. The batch file is a CSV for the custody desk (a
multi-signature wallet's batch tool)::

    batch_id,withdrawal_id,network,to,amount,asset

with ``amount`` in USDC with six decimals (``20.000000``). Known limit: one network
(``ethereum``) per rail instance; the desk reports the transaction hash, which confirms the
withdrawal (``rail_reference``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

from eth_utils.address import is_checksum_address, to_checksum_address

from reclaim.adapters.rails import PayoutBatch, Rail, csv_file, fields_problem
from reclaim.app.withdrawal_ports import (
    Beneficiary,
    BeneficiaryCode,
    BeneficiaryProblem,
    PayoutInstruction,
    RailFile,
)
from reclaim.core.limits import usdc_payments_per_file_max
from reclaim.core.money import ASSETS, format_amount

NAME: Final = "usdc"
ASSET: Final = "USDC"
FIELDS: Final = ("address",)
HEADER: Final = ("batch_id", "withdrawal_id", "network", "to", "amount", "asset")
_HEX_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")


class UsdcRail(Rail):
    """The ``Rail`` of USDC transfers to allow-listed addresses on ``network``."""

    name = NAME
    asset = ASSET
    payments_per_file_max = usdc_payments_per_file_max

    def __init__(self, allow_list: Iterable[str], network: str = "ethereum") -> None:
        allowed = frozenset(allow_list)
        bad = sorted(a for a in allowed if not is_checksum_address(a))
        assert not bad, f"the allow-list holds addresses without their checksum: {bad[:3]}"
        self._allowed = allowed
        self._network = network

    def check_beneficiary(self, fields: Mapping[str, str]) -> Beneficiary | BeneficiaryProblem:
        problem = fields_problem(NAME, fields, FIELDS, FIELDS, "an address is required")
        if problem is not None:
            return problem
        address = fields["address"].strip()
        if not _HEX_ADDRESS.fullmatch(address):
            return BeneficiaryProblem(BeneficiaryCode.address_invalid, "not 0x and 40 hex digits")
        if not is_checksum_address(address):
            mixed = address[2:] not in (address[2:].lower(), address[2:].upper())
            detail = "the EIP-55 checksum does not match" if mixed else "no EIP-55 checksum"
            return BeneficiaryProblem(BeneficiaryCode.address_not_checksummed, detail)
        checked = to_checksum_address(address)
        if checked not in self._allowed:
            return BeneficiaryProblem(
                BeneficiaryCode.address_not_allowed, "not on the operator's allow-list"
            )
        return Beneficiary(NAME, {"address": checked}, checked, f"{checked[:6]}…{checked[-4:]}")

    def write_file(self, batch: PayoutBatch) -> RailFile:
        def row(ins: PayoutInstruction) -> tuple[str, ...]:
            amount = format_amount(ins.amount_minor, ASSETS[ASSET])
            return (batch.batch_id, ins.withdrawal_id, self._network, ins.beneficiary["address"],
                    amount, ASSET)  # fmt: skip

        return csv_file(f"{batch.batch_id}.usdc.csv", HEADER, batch.instructions, row)
