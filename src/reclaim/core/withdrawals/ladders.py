"""What every ladder of the withdrawals core shares: the refusal it returns and the deadline of
a reservation (as the ledger computes ``expires_at``).
"""

from __future__ import annotations

from datetime import timedelta

from reclaim.core.times import format_time, parse_time
from reclaim.core.withdrawals.codes import (
    DestinationCode,
    RequestCode,
    SettleCode,
    WithdrawalsRejection,
)


def refuse(code: RequestCode | SettleCode | DestinationCode, detail: str) -> WithdrawalsRejection:
    """A ladder's refusal of a whole command or event (no item index)."""
    return WithdrawalsRejection(code, None, detail)


def deadline(time: str, timeout_seconds: int) -> str:
    """``expires_at`` of a reservation made at ``time`` (as the ledger computes it)."""
    return format_time(parse_time(time) + timedelta(seconds=timeout_seconds))
