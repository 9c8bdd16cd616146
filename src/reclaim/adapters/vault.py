"""The PII vault: personal data encrypted per subject, apart from the public log.

Theory of operation
-------------------
Envelope encryption. Every subject (a creditor, or a claim before its creditor signs up) has its
own random 256-bit **data key**; each field (``email``, ``holder_name``, ``address``, a document)
is encrypted with it by AES-256-GCM. The data key is stored only **wrapped** by a key-encryption
key (KEK) that lives outside the database (``KeyWrapper``: a key file here, a KMS in a cloud
deployment). Reading a field needs the database row *and* the KEK; a copy of the database alone
reveals nothing but sizes.

Formats (version 1; the labels below are part of every associated data, so a ciphertext of one
kind never opens as another):

- wrapped key (``FileKeyWrapper``): ``nonce(12) || AES-256-GCM(KEK, nonce, data key, aad)``,
  60 bytes, ``aad = "reclaim/pii-key/v1" 0x00 kek_id 0x00 subject``; the KEK id is stored next
  to it (``pii_subjects.kek_id``), so KEKs can rotate.
- field: ``pii_fields.nonce`` (12 bytes) and ``ciphertext = AES-256-GCM(data key, nonce,
  type || value, aad)``, ``type`` ``t`` (UTF-8 text) or ``b`` (bytes), ``aad =
  "reclaim/pii-field/v1" 0x00 subject 0x00 field``: a ciphertext copied to another subject or
  field fails authentication (``VaultCorrupt``).
- sealed blob (kept elsewhere, e.g. an outbox row): ``nonce(12) || AES-256-GCM(data key, nonce,
  blob, "reclaim/pii-seal/v1" 0x00 subject 0x00 purpose)``.

Nonces are 96 random bits. A data key encrypts a handful of values in its life; one KEK wraps a
data key per subject, a few million, far below the 2**32 random-nonce messages NIST SP 800-38D
allows per key (rotate a KEK long before: ``keyfiles.rotate_vault_key`` then ``SqlVault.rewrap``).

**Erasure** (``erase``) deletes the wrapped data key and every field and leaves a tombstone
(``erased_at``); the public log is untouched and still verifies, because it holds only
commitments (below). Known limit: database backups still hold the wrapped key until they expire;
the erasure is complete for them once the KEK that wrapped it is rotated out and destroyed after
the backup retention period (crypto-shredding at the KEK level).

**Commitments** (``Commitments``): the public log refers to personal data only through
``HMAC-SHA256(commitment secret, kind || 0x00 || normalised value)``: deterministic (a sign-up
finds its claim by the commitment of the e-mail typed), unlinkable without the secret (an
attacker who guesses an e-mail cannot test it), and meaningless once the vault forgets the value.
Per-record random salts would be stronger against a leak of the secret but make the lookup by
e-mail impossible; the secret (``commitment.key``) therefore never leaves the operator.

A cloud **KMS adapter** implements the same ``KeyWrapper`` port: ``wrap`` is the KMS's Encrypt
(AWS KMS ``Encrypt`` with ``EncryptionContext={"reclaim": "pii-key/v1", "subject": ...}``;
Google Cloud KMS ``encrypt`` with ``additional_authenticated_data``), ``kek_id`` is the key
version's name (ARN or ``cryptoKeyVersions/N``), and ``unwrap`` is Decrypt with the same context,
mapping "access denied / key disabled / not found" to ``VaultKeyUnavailable``. One KMS call per
subject is too slow for the register import (a million round trips), so a KMS deployment wraps
one intermediate KEK with the KMS at start-up and hands it to ``FileKeyWrapper`` in memory:
the KMS guards the KEK, the KEK guards the data keys, and revoking the KMS key locks the vault.

Errors: ``SubjectNotFound``, ``SubjectErased``, ``VaultKeyUnavailable`` (an unknown KEK id, or a
KEK that does not open the wrapped key: the wrong ``vault.key`` or a tampered row),
``VaultCorrupt`` (a field or sealed blob fails authentication), and the ``StoreError`` tree for
the database. Invalid subject ids or field names are bugs of the caller (assertions).

Measured (``put_many`` of e-mail + holder name for 1,000,000 new subjects, one transaction, on
a shared 2-core machine): SQLite file (WAL, ``synchronous=FULL``) 16-20 s, i.e. 16-20 µs per
subject, of which ~6 µs is key generation, wrapping and encryption and the rest SQLite's
inserts; PostgreSQL over loopback 34-39 s: 13-16 µs per subject in this process, the rest is the
server's (three rows per subject; the foreign key of ``pii_fields`` alone costs ~7.6 µs).

Known limit: Python cannot wipe ``bytes``, so unwrapped data keys stay in memory until
garbage-collected; they are never cached or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, delete, select, update

from reclaim.adapters.db import tables
from reclaim.adapters.db.projections import insert_many
from reclaim.adapters.db.transactions import insert_ignore, stamp, transaction
from reclaim.adapters.keyfiles import VaultKeks, load_vault_keks
from reclaim.app.ports import (
    KeyWrapper,
    PiiRecord,
    PiiValue,
    StoreCorrupt,
    SubjectErased,
    SubjectNotFound,
    VaultCorrupt,
    VaultKeyUnavailable,
    WrappedKey,
)
from reclaim.core import limits

KEY_SIZE_BYTES: Final = 32
NONCE_SIZE_BYTES: Final = 12
_KEY_LABEL: Final = b"reclaim/pii-key/v1\x00"
_FIELD_LABEL: Final = b"reclaim/pii-field/v1\x00"
_SEAL_LABEL: Final = b"reclaim/pii-seal/v1\x00"
_TEXT: Final = b"t"
_BYTES: Final = b"b"
_SUBJECT: Final = re.compile(
    rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{limits.pii_subject_id_length_max_chars - 1}}}"
)
_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PURPOSE: Final = re.compile(r"[a-z][a-z0-9_./:-]{0,127}")


def _check_subject(subject: str) -> bytes:
    assert _SUBJECT.fullmatch(subject), f"not a vault subject id: {subject!r}"
    return subject.encode("ascii")


# Key wrapping ---------------------------------------------------------------------------------


class FileKeyWrapper:
    """The ``KeyWrapper`` port with KEKs held in memory, loaded from ``vault.key``.

    ``wrap`` uses the active KEK; ``unwrap`` any loaded one, by the id stored with the key.
    """

    def __init__(self, keys: Mapping[str, bytes], active_kek_id: str) -> None:
        assert active_kek_id in keys, "the active KEK is loaded"
        assert all(len(key) == KEY_SIZE_BYTES for key in keys.values()), "KEKs are AES-256"
        self._aeads = {kek_id: AESGCM(key) for kek_id, key in keys.items()}
        self._active = active_kek_id

    @classmethod
    def from_keks(cls, keks: VaultKeks) -> FileKeyWrapper:
        return cls(keks.keys, keks.active_id)

    @classmethod
    def load(cls, directory: Path) -> FileKeyWrapper:
        """From ``DIR/vault.key`` (``KeyFileError`` if missing, malformed or not private)."""
        return cls.from_keks(load_vault_keks(directory))

    def __repr__(self) -> str:
        return f"FileKeyWrapper(active={self._active!r}, loaded={sorted(self._aeads)!r})"

    @property
    def active_kek_id(self) -> str:
        return self._active

    def wrap(self, data_key: bytes, context: bytes) -> WrappedKey:
        assert len(data_key) == KEY_SIZE_BYTES
        nonce = os.urandom(NONCE_SIZE_BYTES)
        aad = _KEY_LABEL + self._active.encode("ascii") + b"\x00" + context
        blob = nonce + self._aeads[self._active].encrypt(nonce, data_key, aad)
        return WrappedKey(self._active, blob)

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes:
        aead = self._aeads.get(wrapped.kek_id)
        if aead is None:
            raise VaultKeyUnavailable(f"key-encryption key {wrapped.kek_id!r} is not loaded")
        nonce, sealed = wrapped.blob[:NONCE_SIZE_BYTES], wrapped.blob[NONCE_SIZE_BYTES:]
        aad = _KEY_LABEL + wrapped.kek_id.encode("ascii") + b"\x00" + context
        try:
            return aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise VaultKeyUnavailable(
                f"key-encryption key {wrapped.kek_id!r} does not open this data key: "
                "the wrong vault.key, or a tampered row"
            ) from None


# Commitments ----------------------------------------------------------------------------------


class Commitments:
    """Keyed commitments to personal data, the only form in which it enters the public log."""

    def __init__(self, secret: bytes) -> None:
        assert len(secret) >= KEY_SIZE_BYTES, "a commitment secret has at least 32 bytes"
        self._secret = secret

    def __repr__(self) -> str:
        return "Commitments(<secret>)"

    def commit(self, kind: str, normalised_value: str) -> str:
        """``HMAC-SHA256(secret, kind || 0x00 || value)`` in lower-case hex (64 characters).

        ``kind`` names what is committed (``email``, ``holder_name``); ``normalised_value`` is
        already normalised by the caller (NFC; e.g. an e-mail trimmed and lower-cased).
        """
        assert _NAME.fullmatch(kind), f"not a commitment kind: {kind!r}"
        assert unicodedata.is_normalized("NFC", normalised_value), "values are NFC"
        message = kind.encode("ascii") + b"\x00" + normalised_value.encode("utf-8")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


class CommitmentsAdapter:
    """The base of a port that commits values with ``Commitments``; its repr hides the secret."""

    def __init__(self, commitments: Commitments) -> None:
        self._commitments = commitments

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<secret>)"


# The vault --------------------------------------------------------------------------------------


def _encode(name: str, value: PiiValue) -> bytes:
    assert _NAME.fullmatch(name), f"not a field name: {name!r}"
    encoded = _TEXT + value.encode("utf-8") if isinstance(value, str) else _BYTES + value
    assert len(encoded) <= limits.pii_field_value_max_bytes + 1, f"field {name} is too large"
    return encoded


def _decode(subject: str, name: str, plaintext: bytes) -> PiiValue:
    kind, body = plaintext[:1], plaintext[1:]
    if kind == _TEXT:
        return body.decode("utf-8")
    if kind == _BYTES:
        return body
    raise VaultCorrupt(f"field {name!r} of {subject!r} has an unknown type")


def _field_aad(subject: bytes, name: str) -> bytes:
    return _FIELD_LABEL + subject + b"\x00" + name.encode("ascii")


def _seal_aad(subject: bytes, purpose: str) -> bytes:
    assert _PURPOSE.fullmatch(purpose), f"not a seal purpose: {purpose!r}"
    return _SEAL_LABEL + subject + b"\x00" + purpose.encode("ascii")


def _chunks(
    items: Iterable[tuple[str, Mapping[str, PiiValue]]], size: int
) -> Iterator[list[tuple[str, Mapping[str, PiiValue]]]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass(slots=True)
class _Chunk:
    """A chunk of ``put_many``: rows of its new subjects, and the subjects to ``put`` one by one."""

    subject_rows: list[tuple[Any, ...]]
    field_rows: list[tuple[Any, ...]]
    later: list[tuple[str, Mapping[str, PiiValue]]]


class SqlVault:
    """The ``Vault`` port on SQLite or PostgreSQL (an engine from ``store.create_store_engine``,
    migrated), with data keys wrapped by ``wrapper``. Each call is one transaction."""

    def __init__(self, engine: Engine, wrapper: KeyWrapper) -> None:
        self._engine = engine
        self._wrapper = wrapper

    # Writing ---------------------------------------------------------------------------------

    def put(self, subject: str, fields: Mapping[str, PiiValue], now: datetime) -> None:
        subject_bytes = _check_subject(subject)
        encoded = {name: _encode(name, value) for name, value in fields.items()}
        with transaction(self._engine, write=True) as connection:
            data_key = self._key_for_update(connection, subject, stamp(now))
            self._replace_fields(connection, subject, subject_bytes, data_key, encoded)

    def put_many(self, items: Iterable[tuple[str, Mapping[str, PiiValue]]], now: datetime) -> int:
        """Store many subjects in one transaction, ``limits.vault_put_chunk_subjects`` per insert
        call; new subjects take the bulk path, known ones (or repeats) ``put``'s path.

        (Encrypting chunk k in a thread while chunk k - 1 is inserted was measured: no gain on
        two cores, where the database, the driver and the encryption share them anyway.)
        """
        created_at = stamp(now)
        stored = 0
        with transaction(self._engine, write=True) as connection:
            for chunk in _chunks(items, limits.vault_put_chunk_subjects):
                known = self._known(connection, [subject for subject, _ in chunk])
                encrypted = self._encrypt_chunk(chunk, known, created_at)
                self._store_chunk(connection, encrypted, created_at)
                stored += len(chunk)
        return stored

    @staticmethod
    def _known(connection: Connection, subjects: list[str]) -> set[str]:
        """Which of ``subjects`` are stored. PostgreSQL: one array parameter (an ``IN`` list of
        4096 parameters costs the server more to plan than the inserts)."""
        if connection.dialect.name == "postgresql":
            sql = "SELECT subject_id FROM pii_subjects WHERE subject_id = ANY(%s)"
            return set(connection.exec_driver_sql(sql, (subjects,)).scalars())
        column = tables.pii_subjects.c.subject_id
        return set(connection.execute(select(column).where(column.in_(subjects))).scalars())

    def _encrypt_chunk(
        self,
        chunk: Sequence[tuple[str, Mapping[str, PiiValue]]],
        known: set[str],
        created_at: str,
    ) -> _Chunk:
        """Rows of the chunk's new subjects, ready to insert; the others are left for later."""
        prepared = _Chunk([], [], [])
        wrap = self._wrapper.wrap
        for subject, fields in chunk:
            if subject in known:
                prepared.later.append((subject, fields))
                continue
            known.add(subject)
            subject_bytes = _check_subject(subject)
            # One read of the OS's CSPRNG per subject: the data key, then one nonce per field.
            randomness = os.urandom(KEY_SIZE_BYTES + NONCE_SIZE_BYTES * len(fields))
            data_key = randomness[:KEY_SIZE_BYTES]
            wrapped = wrap(data_key, subject_bytes)
            prepared.subject_rows.append((subject, wrapped.blob, wrapped.kek_id, created_at, None))
            encrypt = AESGCM(data_key).encrypt
            start = KEY_SIZE_BYTES
            for name, value in fields.items():
                nonce = randomness[start : start + NONCE_SIZE_BYTES]
                start += NONCE_SIZE_BYTES
                aad = _FIELD_LABEL + subject_bytes + b"\x00" + name.encode("ascii")
                ciphertext = encrypt(nonce, _encode(name, value), aad)
                prepared.field_rows.append((subject, name, nonce, ciphertext))
        return prepared

    def _store_chunk(self, connection: Connection, chunk: _Chunk, created_at: str) -> None:
        insert_many(connection, tables.pii_subjects, chunk.subject_rows)
        insert_many(connection, tables.pii_fields, chunk.field_rows)
        for subject, fields in chunk.later:
            subject_bytes = _check_subject(subject)
            encoded = {name: _encode(name, value) for name, value in fields.items()}
            data_key = self._key_for_update(connection, subject, created_at)
            self._replace_fields(connection, subject, subject_bytes, data_key, encoded)

    def _key_for_update(self, connection: Connection, subject: str, created_at: str) -> bytes:
        """The subject's data key, creating the subject if it is new; its row stays locked."""
        data_key = secrets.token_bytes(KEY_SIZE_BYTES)
        wrapped = self._wrapper.wrap(data_key, subject.encode("ascii"))
        row = {
            "subject_id": subject,
            "wrapped_key": wrapped.blob,
            "kek_id": wrapped.kek_id,
            "created_at": created_at,
            "erased_at": None,
        }
        if insert_ignore(connection, tables.pii_subjects, row):
            return data_key
        return self._data_key(connection, subject, lock=True)

    @staticmethod
    def _replace_fields(
        connection: Connection,
        subject: str,
        subject_bytes: bytes,
        data_key: bytes,
        encoded: Mapping[str, bytes],
    ) -> None:
        if not encoded:
            return
        fields = tables.pii_fields
        connection.execute(
            delete(fields).where(fields.c.subject_id == subject, fields.c.field.in_(encoded))
        )
        aead = AESGCM(data_key)
        rows = []
        for name, plaintext in encoded.items():
            nonce = os.urandom(NONCE_SIZE_BYTES)
            ciphertext = aead.encrypt(nonce, plaintext, _field_aad(subject_bytes, name))
            rows.append(
                {"subject_id": subject, "field": name, "nonce": nonce, "ciphertext": ciphertext}
            )
        connection.execute(fields.insert(), rows)

    def erase(self, subject: str, now: datetime) -> bool:
        _check_subject(subject)
        subjects_table, fields = tables.pii_subjects, tables.pii_fields
        with transaction(self._engine, write=True) as connection:
            erased_at = connection.execute(
                select(subjects_table.c.erased_at)
                .where(subjects_table.c.subject_id == subject)
                .with_for_update()
            ).one_or_none()
            if erased_at is None:
                raise SubjectNotFound(f"no vault subject {subject!r}")
            if erased_at[0] is not None:
                return False
            connection.execute(delete(fields).where(fields.c.subject_id == subject))
            connection.execute(
                update(subjects_table)
                .where(subjects_table.c.subject_id == subject)
                .values(wrapped_key=None, kek_id=None, erased_at=stamp(now))
            )
        return True

    def rewrap(self, limit: int = limits.vault_rewrap_batch_max) -> int:
        """Re-wrap up to ``limit`` data keys held by a KEK other than the active one (after a
        rotation); returns how many. Call until it returns 0, then retire the old KEK."""
        assert 0 < limit <= limits.vault_rewrap_batch_max
        subjects = tables.pii_subjects
        active = self._wrapper.active_kek_id
        query = (
            select(subjects.c.subject_id, subjects.c.wrapped_key, subjects.c.kek_id)
            .where(subjects.c.kek_id.is_not(None), subjects.c.kek_id != active)
            .order_by(subjects.c.subject_id)
            .limit(limit)
            .with_for_update()
        )
        with transaction(self._engine, write=True) as connection:
            rows = connection.execute(query).all()
            for subject, blob, kek_id in rows:
                context = subject.encode("ascii")
                data_key = self._wrapper.unwrap(WrappedKey(kek_id, bytes(blob)), context)
                wrapped = self._wrapper.wrap(data_key, context)
                connection.execute(
                    update(subjects)
                    .where(subjects.c.subject_id == subject)
                    .values(wrapped_key=wrapped.blob, kek_id=wrapped.kek_id)
                )
        return len(rows)

    # Reading ---------------------------------------------------------------------------------

    def _data_key(self, connection: Connection, subject: str, *, lock: bool = False) -> bytes:
        subjects_table = tables.pii_subjects
        query = select(
            subjects_table.c.wrapped_key, subjects_table.c.kek_id, subjects_table.c.erased_at
        ).where(subjects_table.c.subject_id == subject)
        row = connection.execute(query.with_for_update() if lock else query).one_or_none()
        if row is None:
            raise SubjectNotFound(f"no vault subject {subject!r}")
        blob, kek_id, erased_at = row
        if erased_at is not None:
            raise SubjectErased(f"vault subject {subject!r} was erased at {erased_at}")
        if blob is None or kek_id is None:
            raise StoreCorrupt(f"vault subject {subject!r} has no key and no tombstone")
        return self._wrapper.unwrap(WrappedKey(kek_id, bytes(blob)), subject.encode("ascii"))

    def get(self, subject: str, names: Iterable[str] | None = None) -> PiiRecord:
        subject_bytes = _check_subject(subject)
        fields = tables.pii_fields
        query = select(fields.c.field, fields.c.nonce, fields.c.ciphertext).where(
            fields.c.subject_id == subject
        )
        if names is not None:
            query = query.where(fields.c.field.in_(list(names)))
        with transaction(self._engine) as connection:
            data_key = self._data_key(connection, subject)
            rows = connection.execute(query).all()
        aead = AESGCM(data_key)
        values: dict[str, PiiValue] = {}
        for name, nonce, ciphertext in sorted(rows):
            try:
                plaintext = aead.decrypt(
                    bytes(nonce), bytes(ciphertext), _field_aad(subject_bytes, name)
                )
            except InvalidTag:
                raise VaultCorrupt(
                    f"field {name!r} of {subject!r} fails authentication (moved or tampered)"
                ) from None
            values[name] = _decode(subject, name, plaintext)
        return PiiRecord(subject, values)

    def seal(self, subject: str, purpose: str, plaintext: bytes) -> bytes:
        subject_bytes = _check_subject(subject)
        aad = _seal_aad(subject_bytes, purpose)
        with transaction(self._engine) as connection:
            data_key = self._data_key(connection, subject)
        nonce = os.urandom(NONCE_SIZE_BYTES)
        return nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)

    def open(self, subject: str, purpose: str, sealed: bytes) -> bytes:
        subject_bytes = _check_subject(subject)
        aad = _seal_aad(subject_bytes, purpose)
        with transaction(self._engine) as connection:
            data_key = self._data_key(connection, subject)
        nonce, body = sealed[:NONCE_SIZE_BYTES], sealed[NONCE_SIZE_BYTES:]
        try:
            return AESGCM(data_key).decrypt(nonce, body, aad)
        except InvalidTag:
            raise VaultCorrupt(
                f"a blob sealed for {subject!r} fails authentication as {purpose!r}"
            ) from None
