"""Identity commitments as the register import makes them: ``fold`` then ``Commitments``.

The register import commits the old account's e-mail as ``commit("email", fold(email))`` and
the holder's name as ``commit("holder_name", fold_name(name))`` (``register_file.fold`` and
``fold_name``: NFKC, case-folded, trimmed; names with white-space runs collapsed). Sign-up and
KYC use this adapter, so an address typed as ``Zhang.Wei@Example.CN`` or with full-width
letters meets its claim, and a verified name meets its holder exactly when they fold alike.
"""

from __future__ import annotations

from typing import Final

from reclaim.adapters.files.register_file import fold, fold_name
from reclaim.adapters.vault import CommitmentsAdapter

EMAIL_KIND: Final = "email"
HOLDER_NAME_KIND: Final = "holder_name"


class FoldedCommitments(CommitmentsAdapter):
    """The ``IdentityCommitments`` port over the vault's ``Commitments``."""

    def email(self, address: str) -> str:
        return self._commitments.commit(EMAIL_KIND, fold(address))

    def holder_name(self, name: str) -> str:
        return self._commitments.commit(HOLDER_NAME_KIND, fold_name(name))
