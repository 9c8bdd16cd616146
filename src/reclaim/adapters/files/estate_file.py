"""Estate configuration files (TOML or JSON): the terms of an estate, read into ``CreateEstate``.

Format (``src/reclaim/data/estates/ftx.toml`` is the shipped example)::

    estate_id = "ftx"                      # [a-z0-9][a-z0-9._-]*, unique in the log
    name = "FTX Trading Ltd. et al."
    petition_date = "2022-11-11"           # text or a TOML date
    convenience_class = "7"                # "" (or absent) if the plan has none
    convenience_threshold_minor = 5000000  # USD cents; 0 (or absent) if no convenience class
    consensus_rate_bps = 900               # a year, from the petition date
    interest = "simple"                    # simple | compound (default simple)
    day_count = "ACT/365"                  # ACT/365 | ACT/360 (default ACT/365)

    [[classes]]                            # one table per class
    code = "5A"
    name = "Dotcom customer entitlement claims"
    priority = 1                           # lower is paid first; equal is pari passu

A ``.json`` file holds the same keys (``classes`` a list of objects). Integers must be integers
(a float, a bool or a numeric string is refused: nothing is converted silently); unknown keys
are refused (a misspelt key would otherwise be dropped). This module checks the shape; the
meaning (code forms, the class named as convenience, ranges) is the core's ladder
(``EstateCode``), which answers when the estate is created.

Errors: ``OSError`` reading the file propagates; everything wrong with its content is an
``EstateFileError`` whose ``faults`` name each key.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Final

from reclaim.adapters.files import FileFaultsError
from reclaim.core.claims import ClaimClass, CreateEstate

_REQUIRED: Final = ("estate_id", "name", "petition_date", "classes")
_OPTIONAL: Final = (
    "convenience_class",
    "convenience_threshold_minor",
    "consensus_rate_bps",
    "interest",
    "day_count",
)
_CLASS_KEYS: Final = ("code", "name", "priority")
#: Estates shipped as examples, by name (``reclaim estate create --ftx``).
SHIPPED_ESTATES: Final = ("ftx",)


class EstateFileError(FileFaultsError):
    """An estate file whose content is not an estate: every fault found, one per line."""


def shipped_estate(name: str) -> Path:
    """The path of a shipped example estate file (package data)."""
    assert name in SHIPPED_ESTATES, f"no shipped estate {name!r}"
    return Path(str(resources.files("reclaim") / "data" / "estates" / f"{name}.toml"))


def load_estate_file(path: str | Path) -> CreateEstate:
    """The ``CreateEstate`` command a TOML (or ``.json``) estate file describes."""
    path = Path(path)
    data = path.read_bytes()
    try:
        if path.suffix.lower() == ".json":
            document = json.loads(data.decode("utf-8"))
        else:
            document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EstateFileError(path, [f"not readable: {exc}"]) from None
    if not isinstance(document, dict):
        raise EstateFileError(path, ["the file does not hold a table of keys"])
    faults: list[str] = []
    command = _command(document, faults)
    if faults or command is None:
        raise EstateFileError(path, faults)
    return command


def _command(document: Mapping[str, object], faults: list[str]) -> CreateEstate | None:
    for key in sorted(set(document) - set(_REQUIRED) - set(_OPTIONAL)):
        faults.append(f"{key}: unknown key (expected {', '.join(_REQUIRED + _OPTIONAL)})")
    for key in _REQUIRED:
        if key not in document:
            faults.append(f"{key}: missing")
    estate_id = _text(document, "estate_id", faults)
    name = _text(document, "name", faults)
    petition = document.get("petition_date")
    if isinstance(petition, dt.date) and not isinstance(petition, dt.datetime):
        petition = petition.isoformat()
    petition_date = _text({"petition_date": petition}, "petition_date", faults)
    classes = _classes(document.get("classes"), faults)
    convenience = _text(document, "convenience_class", faults, default="")
    threshold = _integer(document, "convenience_threshold_minor", faults)
    rate = _integer(document, "consensus_rate_bps", faults)
    interest = _text(document, "interest", faults, default="simple")
    day_count = _text(document, "day_count", faults, default="ACT/365")
    if faults:
        return None
    return CreateEstate(
        estate_id, name, petition_date, classes, convenience, threshold, rate, interest, day_count
    )


def _classes(value: object, faults: list[str]) -> tuple[ClaimClass, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        faults.append("classes: not a non-empty list of tables")
        return ()
    classes: list[ClaimClass] = []
    for number, item in enumerate(value, start=1):
        where = f"classes[{number}]"
        if not isinstance(item, dict):
            faults.append(f"{where}: not a table")
            continue
        for key in sorted(set(item) - set(_CLASS_KEYS)):
            faults.append(f"{where}.{key}: unknown key (expected code, name, priority)")
        before = len(faults)
        code = _text(item, "code", faults, where=where)
        name = _text(item, "name", faults, where=where)
        priority = _integer(item, "priority", faults, where=where, required=True)
        if len(faults) == before:
            classes.append(ClaimClass(code, name, priority))
    return tuple(classes)


def _text(
    document: Mapping[str, object],
    key: str,
    faults: list[str],
    *,
    default: str | None = None,
    where: str = "",
) -> str:
    value = document.get(key, default)
    label = f"{where}.{key}" if where else key
    if value is None:
        if where:
            faults.append(f"{label}: missing")
        return ""
    if not isinstance(value, str):
        faults.append(f"{label}: {value!r} is not text")
        return ""
    return value


def _integer(
    document: Mapping[str, object],
    key: str,
    faults: list[str],
    *,
    where: str = "",
    required: bool = False,
) -> int:
    label = f"{where}.{key}" if where else key
    if key not in document:
        if required:
            faults.append(f"{label}: missing")
        return 0
    value = document[key]
    if type(value) is not int:
        faults.append(f"{label}: {value!r} is not an integer")
        return 0
    return value
