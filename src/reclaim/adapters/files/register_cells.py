"""The cell rules of a claims register: one ladder per column, checked over the whole frame.

Each column has a ladder of rules in order of precedence (``register_file``'s docstring lists
them); a cell gets the code of the first rule it fails, and one message naming its value. The
ladders are Polars expressions, so a million rows are checked in one pass per column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import polars as pl

from reclaim.adapters.files.register_format import (
    COLUMN_ORDER,
    STATUSES,
    Progress,
    RegisterError,
)
from reclaim.core import limits
from reclaim.core.iso3166 import ALPHA2
from reclaim.core.limits import register_value_shown_max_chars

_ID_RE: Final = r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$"
_CLASS_RE: Final = r"^[A-Za-z0-9][A-Za-z0-9._\-]*$"
_U: Final = r"\x{80}-\x{10FFFF}"
_ATEXT: Final = rf"[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~\-{_U}]"
_LABEL: Final = rf"[A-Za-z0-9{_U}](?:[A-Za-z0-9\-{_U}]{{0,61}}[A-Za-z0-9{_U}])?"
_TLD: Final = rf"[A-Za-z{_U}](?:[A-Za-z0-9\-{_U}]{{0,61}}[A-Za-z0-9{_U}])?"
_EMAIL_RE: Final = rf"^{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+{_TLD}$"
_EMAIL_SPACE_RE: Final = r"[\p{Cc}\p{Cf}\p{Z}]"
_NAME_CONTROL_RE: Final = r"[\p{Cc}\p{Zl}\p{Zp}]"
_NON_ASCII_RE: Final = r"[^\x00-\x7F]"
_ALPHA2_SORTED: Final = sorted(ALPHA2)
#: Every spelling of an ISO code that is not upper case (``cn``, ``Cn``, ``cN``).
_ALPHA2_NOT_UPPER: Final = sorted(
    a + b
    for code in ALPHA2
    for a in (code[0], code[0].lower())
    for b in (code[1], code[1].lower())
    if a + b != code
)
_NEGATIVE_RE: Final = r"^-(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$"
_USD_RE: Final = r"^(?:0|[1-9][0-9]*)(?:\.[0-9]{1,2})?$"
_USD_SUBCENT_RE: Final = r"^(?:0|[1-9][0-9]*)\.[0-9]{3,}$"
_CENTS_RE: Final = r"^(?:0|[1-9][0-9]*)$"
_CENTS_FRACTION_RE: Final = r"^(?:0|[1-9][0-9]*)\.[0-9]+$"


# Cells ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rule:
    code: str
    fails: pl.Expr


def _ladder(rules: Sequence[_Rule]) -> pl.Expr:
    """The code of the first rule a cell fails, or null."""
    code: pl.Expr = pl.lit(None, dtype=pl.String)
    for rule in reversed(rules):
        code = pl.when(rule.fails).then(pl.lit(rule.code)).otherwise(code)
    return code


def _rules(
    name: str, allowed_classes: frozenset[str] | None, lossy: bool, *, repeats: bool
) -> list[_Rule]:
    """The ladder of column ``name``: one rule per fault, in order of precedence."""
    col = pl.col(name)
    rules: list[_Rule] = []
    if lossy:
        rules.append(_Rule("not_utf8", col.str.contains("\ufffd", literal=True)))
    if name in ("claim_id", "customer_code"):
        rules += [
            _Rule("missing_value", col == ""),
            _Rule("too_long", col.str.len_chars() > limits.claim_id_length_max_chars),
            _Rule("bad_characters", ~col.str.contains(_ID_RE)),
        ]
        if name == "claim_id" and repeats:
            rules.append(_Rule("duplicate_claim_id", pl.col("row") != pl.col("first_row")))
    elif name == "email":
        email = col  # stripped by _text_columns
        rules += [
            _Rule("missing_value", email == ""),
            _Rule("too_long", email.str.len_bytes() > limits.email_length_max_bytes),
            _Rule("email_space", email.str.contains(_EMAIL_SPACE_RE)),
            _Rule("invalid_email", ~email.str.contains(_EMAIL_RE)),
            _Rule(
                "email_local_part_too_long",
                email.str.find("@", literal=True) > limits.email_local_part_max_bytes,
            ),
        ]
    elif name == "holder_name":
        rules += [
            _Rule("missing_value", col.str.strip_chars() == ""),
            _Rule("too_long", col.str.len_chars() > limits.holder_name_length_max_chars),
            _Rule("control_characters", col.str.contains(_NAME_CONTROL_RE)),
        ]
    elif name == "jurisdiction":
        rules += [
            _Rule("missing_value", col == ""),
            _Rule("jurisdiction_not_upper_case", col.is_in(_ALPHA2_NOT_UPPER)),
            _Rule("unknown_jurisdiction", ~col.is_in(_ALPHA2_SORTED)),
        ]
    elif name == "class":
        rules += [
            _Rule("missing_value", col == ""),
            _Rule("too_long", col.str.len_chars() > limits.claim_class_length_max_chars),
            _Rule("bad_characters", ~col.str.contains(_CLASS_RE)),
        ]
        if allowed_classes is not None:
            rules.append(_Rule("unknown_class", ~col.is_in(sorted(allowed_classes))))
    elif name == "status":
        rules += [
            _Rule("missing_value", col == ""),
            _Rule("unknown_status", ~col.is_in(STATUSES)),
        ]
    else:
        usd = name == "admitted_usd"
        rules += [
            _Rule("missing_value", col == ""),
            _Rule("negative_amount", col.str.contains(_NEGATIVE_RE)),
            _Rule(
                "fractional_cents", col.str.contains(_USD_SUBCENT_RE if usd else _CENTS_FRACTION_RE)
            ),
            _Rule("not_an_amount", ~col.str.contains(_USD_RE if usd else _CENTS_RE)),
            _Rule("amount_too_large", cents(name).is_null()),
        ]
    return rules


def cents(name: str) -> pl.Expr:
    """Cents of a well-formed amount cell as Int64 (null when it overflows or is malformed)."""
    col = pl.col(name)
    if name == "admitted_cents":
        return col.cast(pl.Int64, strict=False)
    point = col.str.find(".", literal=True)
    places = (col.str.len_bytes() - point - 1).fill_null(0)
    zeros = pl.when(places == 0).then(pl.lit("00")).when(places == 1).then(pl.lit("0"))
    digits = col.str.replace(".", "", literal=True) + zeros.otherwise(pl.lit(""))
    return digits.cast(pl.Int64, strict=False)


def check_cells(
    typed: pl.DataFrame,
    *,
    allowed_classes: frozenset[str] | None,
    lossy: bool,
    report: Progress,
) -> tuple[list[RegisterError], int]:
    """The cell faults of every column, sorted by row and column, bounded; and their total."""
    names = [name for name in typed.columns if name != "row"]
    if not names:
        return [], 0
    report("validate", 0, len(names))
    faults: list[pl.LazyFrame] = []
    base = typed.lazy()
    repeats = "claim_id" in names and typed.get_column("claim_id").n_unique() < typed.height
    if repeats:
        base = base.with_columns(pl.col("row").min().over("claim_id").alias("first_row"))
    base = base.with_columns(pl.all_horizontal([pl.col(n) == "" for n in names]).alias("blank"))
    faults.append(
        base.filter(pl.col("blank")).select(
            pl.col("row"),
            pl.lit(-1, dtype=pl.Int64).alias("order"),
            pl.lit(None, dtype=pl.String).alias("column"),
            pl.lit("blank_row").alias("code"),
            pl.lit("").alias("value"),
            pl.lit(None, dtype=pl.Int64).alias("first_row"),
        )
    )
    for name in names:
        code = _ladder(_rules(name, allowed_classes, lossy, repeats=repeats))
        first = pl.col("first_row") if name == "claim_id" and repeats else pl.lit(None)
        faults.append(
            base.filter(~pl.col("blank"))
            .select(
                pl.col("row"),
                pl.lit(COLUMN_ORDER[name], dtype=pl.Int64).alias("order"),
                pl.lit(name).alias("column"),
                code.alias("code"),
                pl.col(name).alias("value"),
                first.cast(pl.Int64).alias("first_row"),
            )
            .filter(pl.col("code").is_not_null())
        )
    found = pl.concat(faults).collect()
    report("validate", len(names), len(names))
    listed = found.sort(["row", "order"]).head(limits.register_report_errors_max)
    errors = [
        RegisterError(row, column, code, _message(column, code, value, first_row, allowed_classes))
        for row, _, column, code, value, first_row in listed.iter_rows()
    ]
    return errors, found.height


def _shown(value: str) -> str:
    if len(value) > register_value_shown_max_chars:
        value = value[:register_value_shown_max_chars] + "…"
    return repr(value)


_MESSAGES: Final[Mapping[str, str]] = {
    "not_utf8": "{v} holds bytes that are not UTF-8 (shown as U+FFFD)",
    "missing_value": "is empty",
    "blank_row": "the row is blank (every field empty)",
    "bad_characters": "{v} may hold only letters A-Z a-z, digits and {extra}, "
    "starting with a letter or digit",
    "duplicate_claim_id": "{v} repeats the claim id of row {first}",
    "email_space": "{v} holds white space or an invisible character",
    "invalid_email": "{v} is not an e-mail address (local@domain.tld)",
    "email_local_part_too_long": "{v}: the part before @ is longer than {max} bytes",
    "control_characters": "{v} holds a control character or a line break",
    "jurisdiction_not_upper_case": "{v} must be upper case ({upper})",
    "unknown_jurisdiction": "{v} is not an ISO 3166-1 alpha-2 country code",
    "unknown_class": "{v} is not a class of this estate ({classes})",
    "unknown_status": "{v} is not one of " + ", ".join(STATUSES),
    "negative_amount": "{v} is negative (amounts have no sign)",
    "amount_too_large": "{v} does not fit a 64-bit number of cents",
}


def _message(
    column: str | None,
    code: str,
    value: str,
    first_row: int | None,
    allowed_classes: frozenset[str] | None,
) -> str:
    if code == "too_long":
        bound = {
            "email": (len(value.strip().encode()), limits.email_length_max_bytes, "bytes"),
            "holder_name": (len(value), limits.holder_name_length_max_chars, "characters"),
            "class": (len(value), limits.claim_class_length_max_chars, "characters"),
        }.get(column or "", (len(value), limits.claim_id_length_max_chars, "characters"))
        return f"{bound[0]:,} {bound[2]} long; at most {bound[1]:,}"
    if code == "fractional_cents":
        if column == "admitted_cents":
            return f"{_shown(value)} is not a whole number of cents: fractional cents are refused"
        places = len(value.partition(".")[2])
        return f"{_shown(value)} has {places} decimal places: fractional cents are refused"
    if code == "not_an_amount":
        if column == "admitted_cents":
            return f"{_shown(value)} is not a whole number of cents (digits only)"
        return f"{_shown(value)} is not a dollar amount (digits, optionally . and 1-2 places)"
    extra = "'.', '_', ':', '-'" if column != "class" else "'.', '_', '-'"
    return _MESSAGES[code].format(
        v=_shown(value.strip() if column == "email" else value),
        first=first_row,
        max=limits.email_local_part_max_bytes,
        upper=value.upper(),
        classes=", ".join(sorted(allowed_classes or ())),
        extra=extra,
    )
