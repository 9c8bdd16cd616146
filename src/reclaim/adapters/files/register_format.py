"""The claims register file's vocabulary: its columns, and the values reading one gives.

``register_file.read_register`` returns a ``RegisterFile`` (every row valid, as columns) or a
``RegisterReport`` (every ``RegisterError``, nothing imported); ``register_cells`` checks the
cells. The format itself is described in ``register_file``'s docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

import polars as pl

from reclaim.app.claims_import import Fault, fault_lines

# The format -------------------------------------------------------------------------------------

#: The canonical header, in canonical order (also the order of faults within a row).
CANONICAL_HEADER: Final = (
    "claim_id",
    "customer_code",
    "email",
    "holder_name",
    "jurisdiction",
    "class",
    "admitted_usd",
    "status",
)
AMOUNT_COLUMNS: Final = ("admitted_usd", "admitted_cents")
TEXT_COLUMNS: Final = tuple(c for c in CANONICAL_HEADER if c not in AMOUNT_COLUMNS)
STATUSES: Final = ("scheduled", "filed", "allowed", "disputed", "expunged")
#: Position of each column in a row's faults (both amount columns sit where the amount does).
COLUMN_ORDER: Final = {
    **{name: i for i, name in enumerate(CANONICAL_HEADER)},
    "admitted_cents": CANONICAL_HEADER.index("admitted_usd"),
}

SourceFormat = Literal["csv", "parquet"]
AmountColumn = Literal["admitted_usd", "admitted_cents"]
#: ``progress(stage, done, total)``: stages ``hash`` (bytes), ``parse``, ``validate`` (columns)
#: and ``normalise`` (steps), each reported from 0 to its total.
Progress = Callable[[str, int, int], None]


# Values -----------------------------------------------------------------------------------------


class RegisterRow(NamedTuple):
    """One valid claim of the register, in the order of ``RegisterFile.frame``'s columns."""

    row: int
    claim_id: str
    customer_code: str
    email: str
    email_normalized: str
    holder_name: str
    holder_name_normalized: str
    jurisdiction: str
    claim_class: str
    admitted_cents: int
    status: str


FRAME_SCHEMA: Final = pl.Schema(
    {
        name: (pl.Int64 if name in ("row", "admitted_cents") else pl.String)
        for name in RegisterRow._fields
    }
)


@dataclass(frozen=True, slots=True)
class RegisterError(Fault):
    """One fault: of a cell (``row`` and ``column``), a column (``row`` None) or the file."""

    def line(self) -> str:
        """As ``Fault.line``, a column name that is blank, padded or unprintable quoted."""
        column = self.column
        if column is not None and (
            not column or column != column.strip() or not column.isprintable()
        ):
            column = repr(column)
        return self._line(column)


@dataclass(frozen=True, slots=True)
class RegisterReport:
    """A register that imports nothing, and why: every fault found (up to a bound)."""

    register_id: str | None
    errors: tuple[RegisterError, ...]
    errors_total: int
    rows_read: int

    def __post_init__(self) -> None:
        assert self.errors, "a report has at least one fault"
        assert self.errors_total >= len(self.errors), "the total counts the listed faults"

    def lines(self) -> list[str]:
        """The report as text lines, with a last line counting faults not listed."""
        return fault_lines(self.errors, self.errors_total)


@dataclass(frozen=True, slots=True)
class RegisterFile:
    """A register whose every row is valid, as columns (``frame``) in file order."""

    register_id: str
    source_format: SourceFormat
    amount_column: AmountColumn
    frame: pl.DataFrame

    def __post_init__(self) -> None:
        assert self.frame.schema == FRAME_SCHEMA, "the frame has the columns of RegisterRow"

    @property
    def row_count(self) -> int:
        return self.frame.height

    def rows(self) -> Iterator[RegisterRow]:
        """Every claim as a ``RegisterRow`` tuple, in file order."""
        return map(RegisterRow._make, self.frame.iter_rows())

    def dicts(self) -> Iterator[dict[str, object]]:
        """Every claim as a plain ``dict`` keyed by ``RegisterRow``'s field names."""
        return iter(self.frame.iter_rows(named=True))

    def texts(self, name: str) -> list[str]:
        """The text column ``name`` (a ``RegisterRow`` field but ``row`` and
        ``admitted_cents``), in file order: for bulk use, ~10x faster than ``rows``."""
        assert FRAME_SCHEMA.get(name) == pl.String, f"{name!r} is not a text column"
        values: list[str] = self.frame.get_column(name).to_list()
        return values

    def amounts_cents(self) -> list[int]:
        """The ``admitted_cents`` column, in file order."""
        values: list[int] = self.frame.get_column("admitted_cents").to_list()
        return values
