"""The operator's writes to the claims register: create an estate, import a register, set policy.

Theory of operation: ``import_register``
----------------------------------------
A register version (one CSV or Parquet file) goes through five phases; ``progress(phase, done,
total)`` is called as each advances (the file reader's own stages ``hash``, ``parse``,
``validate``, ``normalise`` first):

1. **read** — the file adapter (``read``, e.g. ``register_file.read_register``) reads and
   validates every row against the estate's classes. One bad row and the answer is an
   ``ImportReport`` listing every bad row (row, column, what is wrong); nothing is written.
2. **commit** — the HMAC commitments (``commitments.commit``) of each row's normalised e-mail
   and holder name: the only form in which personal data enters the public log.
3. **plan** — ``plan_register_import`` compares the whole file with the estate's register as
   stored (read under the log's writer lock): the ``ImportClaims`` / ``AmendClaims`` commands
   that bring the register to the file, or a refusal of rows that conflict with the state (a
   claim of another estate, a linked claim whose e-mail would change): an ``ImportReport``, and
   still nothing is written. The same file again plans no command: a no-op.
4. **vault** and 5. **append**, chunk by chunk (``chunk_claims`` claims at most): first the
   plaintext e-mail and holder name of the chunk's new claims (and of claims whose e-mail or
   name the chunk amends) go into the PII vault, encrypted under the subject ``claim:<id>``,
   in one vault transaction; only then are the chunk's commands appended with
   ``log.submit_many`` (signed by ``actor``, the admin). A refused command (another writer got
   in between; a bug) stops the import after its chunk and is reported.

Why this order, and what a crash leaves
---------------------------------------
The log is append-only: a command once appended stays. "Nothing half-applied" therefore means
that everything that can be refused is refused *before* the first write: the file is validated
whole and the plan is made whole against the state; then the writes only carry out a plan that
holds. The vault is written before the log, chunk by chunk, so every claim in the log has its
PII in the vault; a crash can leave at worst the vault entries of one chunk that no event
names yet (harmless: unused, and overwritten by the next run).

**Resuming** after a crash (or a refused command) is running the same import again: phase 3
re-plans against the state as stored, which now holds the chunks appended before the crash, so
the new plan holds exactly the rest (new claims that are not in the log yet; amendments whose
old value is still current); those are appended and the register ends as if the first run had
completed, with no claim imported twice. Vault entries of the chunk that was being written are
put again (``put_many`` replaces the fields of a known subject).

Errors
------
Returned values: ``ImportReport`` (``stage`` ``estate``, ``file``, ``plan`` or ``append``).
Raised: the vault's ``VaultError`` and the store's ``StoreError`` (operating errors, from the
adapters; the run stops, and re-running resumes), ``OSError`` reading the file.

Known limits
------------
- One writer per log: a second process appending to the same store is not coordinated with
  (the log service's own checks refuse its stale commands, which stops the import).
- The whole register is held in memory (the file's columns, the commitments, the plan) on top
  of the log's state: about 1 kB a claim in all while importing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, Protocol, runtime_checkable

from reclaim.app.log_ports import LogWriter
from reclaim.app.log_service import Accepted
from reclaim.app.ports import Clock, PiiValue, Vault
from reclaim.core.claims import (
    AmendClaims,
    ClaimCode,
    CreateEstate,
    Estate,
    ImportClaims,
    ImportPlan,
    PolicyCode,
    PolicyEntry,
    RegisterRefusal,
    RegisterRow,
    SetPolicy,
    plan_register_import,
)
from reclaim.core.claims.model import IDENTITY_FIELDS
from reclaim.core.limits import import_chunk_claims_max, policy_entries_per_event_max
from reclaim.core.machine import Command
from reclaim.core.rejections import Rejection

#: ``progress(phase, done, total)``.
Progress = Callable[[str, int, int], None]
#: The vault subject of a claim's personal data.
CLAIM_SUBJECT_PREFIX: Final = "claim:"
EMAIL_FIELD: Final = "email"
HOLDER_NAME_FIELD: Final = "holder_name"
#: The commitment kinds of the two fields (``Commitments.commit(kind, value)``).
EMAIL_KIND: Final = "email"
HOLDER_NAME_KIND: Final = "holder_name"


# Ports ------------------------------------------------------------------------------------------


class ImportLog(LogWriter, Protocol):
    """What the import needs of the log service (``LogService`` is one): its clock too."""

    @property
    def clock(self) -> Clock: ...


class Committer(Protocol):
    """Keyed commitments to personal data (``adapters.vault.Commitments``)."""

    def commit(self, kind: str, normalised_value: str) -> str: ...


class ValidRegister(Protocol):
    """A register file whose every row is valid (``register_file.RegisterFile``)."""

    @property
    def register_id(self) -> str: ...
    @property
    def row_count(self) -> int: ...

    def texts(self, name: str) -> list[str]:
        """A text column, in file order: ``claim_id``, ``customer_code``, ``email``,
        ``email_normalized``, ``holder_name``, ``holder_name_normalized``, ``jurisdiction``,
        ``claim_class``, ``status``."""
        ...

    def amounts_cents(self) -> list[int]:
        """The admitted amounts in USD cents, in file order."""
        ...


@runtime_checkable
class FileReport(Protocol):
    """A register file that imports nothing (``register_file.RegisterReport``)."""

    @property
    def register_id(self) -> str | None: ...
    @property
    def errors(self) -> Sequence[Fault]: ...
    @property
    def errors_total(self) -> int: ...
    @property
    def rows_read(self) -> int: ...


class RegisterReader(Protocol):
    """Reads and validates a whole register file (``register_file.read_register``)."""

    def __call__(
        self,
        path: str | Path,
        *,
        allowed_classes: frozenset[str] | None = None,
        progress: Progress | None = None,
    ) -> ValidRegister | FileReport: ...


# Answers ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fault:
    """Why an import was refused: a cell (``row``, 1-based data row, and ``column``), a row, a
    column (``row`` None) or the whole file or command (both None)."""

    row: int | None
    column: str | None
    code: str
    message: str

    def line(self) -> str:
        """``row 3, email: ...``, ``row 3: ...``, ``file, class: ...`` or ``file: ...``."""
        return self._line(self.column)

    def _line(self, column: str | None) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        return f"{where}{'' if column is None else ', ' + column}: {self.message}"


def fault_lines(faults: Sequence[Fault], faults_total: int) -> list[str]:
    """Faults as text lines, with a last line counting those not listed (of ``faults_total``)."""
    out = [fault.line() for fault in faults]
    rest = faults_total - len(faults)
    if rest:
        out.append(f"... and {rest:,} more faults not listed")
    return out


ImportStage = Literal["estate", "file", "plan", "append"]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """An import that stopped, and why: at ``stage`` ``estate``, ``file`` or ``plan`` nothing was
    written; at ``append``, ``events_appended`` events went in before the refused command (run
    the import again to resume)."""

    stage: ImportStage
    register_id: str | None
    faults: tuple[Fault, ...]
    faults_total: int
    rows_read: int
    events_appended: int = 0

    def lines(self) -> list[str]:
        return fault_lines(self.faults, self.faults_total)


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """A completed import: what the file changed in the register (``new`` + ``amended`` +
    ``unchanged`` = rows; ``expunged``: claims of the register the file no longer lists), the
    events appended (0: the file was imported already) and the wall-clock time."""

    estate_id: str
    register_id: str
    rows: int
    new_claims: int
    amended_claims: int
    expunged_claims: int
    unchanged_claims: int
    vault_subjects: int
    commands: int
    events_appended: int
    log_size: int
    seconds: float


# The import -------------------------------------------------------------------------------------


def import_register(
    log: ImportLog,
    vault: Vault,
    commitments: Committer,
    estate_id: str,
    path: str | Path,
    progress: Progress | None = None,
    *,
    read: RegisterReader,
    actor: str = "admin",
    chunk_claims: int = import_chunk_claims_max,
    full_schedule: bool = True,
) -> ImportSummary | ImportReport:
    """Import the register file at ``path`` into estate ``estate_id`` (see the module doc).

    The file is the whole schedule (``full_schedule``): claims of the register it no longer
    lists are expunged; with ``full_schedule=False`` it is a supplement and leaves them alone.
    """
    assert 0 < chunk_claims <= import_chunk_claims_max, "a chunk holds 1..max claims"
    started = time.perf_counter()
    report = progress or _silent
    estate = log.read(lambda state: state.claims.estates.get(estate_id))
    if estate is None:
        fault = Fault(None, None, ClaimCode.estate_not_found.name, f"no estate {estate_id!r}")
        return ImportReport("estate", None, (fault,), 1, 0)
    register = read(path, allowed_classes=frozenset(estate.classes), progress=report)
    if isinstance(register, FileReport):
        return _file_report(register)
    rows, plaintext = _committed_rows(register, commitments, report)
    report("plan", 0, 1)
    plan = log.read(
        lambda state: plan_register_import(
            state.claims, estate_id, register.register_id, rows, full_schedule=full_schedule
        )
    )
    report("plan", 1, 1)
    if isinstance(plan, RegisterRefusal):
        return _plan_report(plan, register)
    written = _write(log, vault, plan, plaintext, report, actor, chunk_claims)
    if isinstance(written, ImportReport):
        return written
    subjects, events = written
    return ImportSummary(
        estate_id=estate_id,
        register_id=register.register_id,
        rows=register.row_count,
        new_claims=plan.new_claims,
        amended_claims=plan.amended_claims,
        expunged_claims=plan.expunged_claims,
        unchanged_claims=plan.unchanged_claims,
        vault_subjects=subjects,
        commands=len(plan.commands),
        events_appended=events,
        log_size=log.read(lambda state: state.events),
        seconds=time.perf_counter() - started,
    )


def _silent(phase: str, done: int, total: int) -> None:
    del phase, done, total


def _file_report(register: FileReport) -> ImportReport:
    faults = tuple(Fault(e.row, e.column, e.code, e.message) for e in register.errors)
    return ImportReport(
        "file", register.register_id, faults, register.errors_total, register.rows_read
    )


#: The file column that holds each field a plan may refuse.
_COLUMN_OF_CODE: Final[Mapping[ClaimCode, str]] = {
    ClaimCode.claim_id_malformed: "claim_id",
    ClaimCode.customer_code_malformed: "customer_code",
    ClaimCode.email_commitment_malformed: "email",
    ClaimCode.holder_commitment_malformed: "holder_name",
    ClaimCode.jurisdiction_unknown: "jurisdiction",
    ClaimCode.class_unknown: "class",
    ClaimCode.amount_out_of_range: "admitted",
    ClaimCode.status_unknown: "status",
    ClaimCode.claim_id_duplicated: "claim_id",
    ClaimCode.claim_in_other_estate: "claim_id",
}


def _plan_report(refusal: RegisterRefusal, register: ValidRegister) -> ImportReport:
    faults = []
    for problem in refusal.problems:
        code = problem.code
        column = _COLUMN_OF_CODE.get(code) if isinstance(code, ClaimCode) else None
        row = None if problem.row is None else problem.row + 1
        claim = f"claim {problem.claim_id!r}: " if problem.claim_id else ""
        message = f"{claim}{code.name.replace('_', ' ')} ({problem.detail})"
        faults.append(Fault(row, column, code.name, message))
    return ImportReport(
        "plan", register.register_id, tuple(faults), refusal.problem_count, register.row_count
    )


@dataclass(slots=True)
class _Plaintext:
    """The file's e-mail and holder name of each claim, by claim id, for the vault."""

    index: dict[str, int]
    emails: list[str]
    names: list[str]

    def fields(self, claim_id: str) -> dict[str, PiiValue]:
        i = self.index[claim_id]
        return {EMAIL_FIELD: self.emails[i], HOLDER_NAME_FIELD: self.names[i]}


def _committed_rows(
    register: ValidRegister, commitments: Committer, report: Progress
) -> tuple[list[RegisterRow], _Plaintext]:
    """The core's rows (commitments in place of e-mail and name) and the plaintext kept aside.

    Equal normalised values have equal commitments, so each distinct value is committed once
    (a creditor with several claims, a common name). Column-wise: a million rows take ~2 s of
    HMAC and ~1 s of the rest.
    """
    total = register.row_count
    report("commit", 0, total)
    emails = _commit_column(register.texts("email_normalized"), EMAIL_KIND, commitments)
    report("commit", total // 2, total)
    names = _commit_column(register.texts("holder_name_normalized"), HOLDER_NAME_KIND, commitments)
    claim_ids = register.texts("claim_id")
    make = tuple.__new__  # builds the NamedTuple without a Python frame per row
    rows = [
        make(RegisterRow, fields)
        for fields in zip(
            claim_ids, register.texts("customer_code"), emails, names,
            register.texts("jurisdiction"), register.texts("claim_class"),
            register.amounts_cents(), register.texts("status"), strict=True,
        )
    ]  # fmt: skip
    index = dict(zip(claim_ids, range(total), strict=True))
    plaintext = _Plaintext(index, register.texts("email"), register.texts("holder_name"))
    report("commit", total, total)
    return rows, plaintext


def _commit_column(values: list[str], kind: str, commitments: Committer) -> list[str]:
    """The commitment of each value, each distinct value committed once."""
    commit = commitments.commit
    of: dict[str, str] = {}
    out: list[str] = []
    for value in values:
        found = of.get(value)
        if found is None:
            found = of[value] = commit(kind, value)
        out.append(found)
    return out


def _chunks(
    commands: Sequence[ImportClaims | AmendClaims], chunk_claims: int
) -> Iterator[list[ImportClaims | AmendClaims]]:
    """Consecutive commands holding at most ``chunk_claims`` items (at least one command)."""
    chunk: list[ImportClaims | AmendClaims] = []
    items = 0
    for command in commands:
        size = _items(command)
        if chunk and items + size > chunk_claims:
            yield chunk
            chunk, items = [], 0
        chunk.append(command)
        items += size
    if chunk:
        yield chunk


def _items(command: ImportClaims | AmendClaims) -> int:
    return len(command.claims) if isinstance(command, ImportClaims) else len(command.amendments)


def _subjects(command: ImportClaims | AmendClaims) -> list[str]:
    """The claims whose personal data ``command`` adds or changes."""
    if isinstance(command, ImportClaims):
        return [row.claim_id for row in command.claims]
    return [a.claim_id for a in command.amendments if a.field in IDENTITY_FIELDS]


def _write(
    log: ImportLog,
    vault: Vault,
    plan: ImportPlan,
    plaintext: _Plaintext,
    report: Progress,
    actor: str,
    chunk_claims: int,
) -> tuple[int, int] | ImportReport:
    """Vault then log, chunk by chunk: (vault subjects put, events appended), or why it stopped.

    (Writing the vault entries of chunk k + 1 on a thread while chunk k is appended was
    measured: no gain, both sides hold the interpreter most of the time.)
    """
    commands = plan.commands
    subjects_total = sum(len(set(_subjects(c))) for c in commands)
    report("vault", 0, subjects_total)
    report("append", 0, len(commands))
    subjects_done = commands_done = events = 0
    for chunk in _chunks(commands, chunk_claims):
        subjects = sorted({s for command in chunk for s in _subjects(command)})
        if subjects:
            now = log.clock.now()
            vault.put_many(((CLAIM_SUBJECT_PREFIX + s, plaintext.fields(s)) for s in subjects), now)
        subjects_done += len(subjects)
        report("vault", subjects_done, subjects_total)
        outcomes = log.submit_many([(command, actor) for command in chunk])
        refused: list[Fault] = []
        for offset, outcome in enumerate(outcomes):
            if isinstance(outcome, Rejection):
                position = commands_done + offset + 1
                detail = f"command {position:,} of {len(commands):,} refused: {outcome}"
                refused.append(Fault(None, None, outcome.code.name, detail))
            else:
                events += len(outcome.events)
        commands_done += len(chunk)
        report("append", commands_done, len(commands))
        if refused:
            return ImportReport("append", None, tuple(refused), len(refused), 0, events)
    return subjects_done, events


# Estates ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EstateCreated:
    """The estate was created now (``seq`` of its event) or existed with the same terms
    (``seq`` None)."""

    estate_id: str
    seq: int | None


def create_estate(
    log: ImportLog, command: CreateEstate, *, actor: str = "admin"
) -> EstateCreated | Rejection:
    """Create the estate ``command`` describes; an estate that exists on the same terms is
    answered as created (so the command can be run again), on other terms refused."""
    existing = log.read(lambda state: state.claims.estates.get(command.estate_id))
    if existing is not None and same_terms(existing, command):
        return EstateCreated(command.estate_id, None)
    (outcome,) = log.submit_many([(command, actor)])
    if isinstance(outcome, Rejection):
        return outcome
    return EstateCreated(command.estate_id, outcome.seq)


def same_terms(estate: Estate, command: CreateEstate) -> bool:
    """Whether ``estate`` is what ``command`` would create."""
    return (
        estate.id == command.estate_id
        and estate.name == command.name
        and estate.petition_date == command.petition_date
        and sorted(estate.classes.values()) == sorted(command.classes)
        and estate.convenience_class == command.convenience_class
        and estate.convenience_threshold_minor == command.convenience_threshold_minor
        and estate.consensus_rate_bps == command.consensus_rate_bps
        and estate.interest == command.interest
        and estate.day_count == command.day_count
    )


# Policy -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Entries set now (``jurisdiction.policy_set`` events) and entries already in force as
    given (``exists``: setting the same policy again is a no-op)."""

    entries_set: int
    entries_unchanged: int
    events_appended: int


def set_policy(
    log: ImportLog, entries: Sequence[PolicyEntry], *, actor: str = "admin"
) -> PolicySet | Rejection:
    """Add dated entries to the jurisdiction policy, ``policy_entries_per_event_max`` per event.

    The entries should come validated (``policy_file.load_policy_csv``); the core refuses a bad
    one with its command. Commands before a refused one stay appended (each is whole); setting
    the same entries again answers them ``exists``.
    """
    step = policy_entries_per_event_max
    commands: list[tuple[Command, str]] = [
        (SetPolicy(tuple(entries[i : i + step])), actor) for i in range(0, len(entries), step)
    ]
    done = unchanged = events = 0
    for outcome in log.submit_many(commands):
        if isinstance(outcome, Rejection):
            return outcome
        assert isinstance(outcome, Accepted)
        events += len(outcome.events)
        for result in outcome.results:
            if result.code is PolicyCode.ok:
                done += 1
            else:
                unchanged += 1
    return PolicySet(done, unchanged, events)
