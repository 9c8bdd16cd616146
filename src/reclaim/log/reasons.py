"""One exception shape for refusals with an ordered reason: ``ReasonError[R]`` carries a member
of the refusing module's ``StrEnum`` as ``reason`` and a sentence as its message.

Subclassed by the checkpoint, Merkle proof and inclusion-proof document errors
(``reclaim.log.checkpoint``, ``reclaim.log.merkle``, ``reclaim.app.prove``); a caller switches on
``reason``, never on the text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Generic, TypeVar

R = TypeVar("R", bound=StrEnum)


class ReasonError(ValueError, Generic[R]):
    """A refusal: ``reason`` (why, a member of the module's ordered enum) and the message."""

    def __init__(self, reason: R, message: str) -> None:
        super().__init__(message)
        self.reason = reason
