"""The PII vault's contract, on SQLite and PostgreSQL: what is put comes back, nothing readable
rests in the database, ciphertexts are bound to their subject and field, erasure is final and
local, and key-encryption keys rotate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from reclaim.adapters.db import migrate, tables
from reclaim.adapters.db.store import create_store_engine
from reclaim.adapters.vault import FileKeyWrapper, SqlVault
from reclaim.app.ports import (
    SubjectErased,
    SubjectNotFound,
    VaultCorrupt,
    VaultKeyUnavailable,
)

NOW = datetime(2026, 1, 25, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
KEK_A = ("a0a0a0a0a0a0a0a0", bytes(range(32)))
KEK_B = ("b1b1b1b1b1b1b1b1", bytes(range(100, 132)))
EMAIL = "zhang.wei@example.cn"
NAME = "张伟"
SCAN = b"%PDF-1.7 passport scan \x00\xff"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_store_engine(db_url)
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def wrapper(*keks: tuple[str, bytes]) -> FileKeyWrapper:
    """KEKs in order: the first one is active."""
    return FileKeyWrapper(dict(keks), keks[0][0])


@pytest.fixture
def vault(engine: Engine) -> SqlVault:
    return SqlVault(engine, wrapper(KEK_A))


def creditor(vault: SqlVault, subject: str = "creditor:1") -> None:
    vault.put(subject, {"email": EMAIL, "holder_name": NAME, "passport": SCAN}, NOW)


def test_what_is_put_comes_back_with_its_type(vault: SqlVault) -> None:
    creditor(vault)
    record = vault.get("creditor:1")
    assert record.fields == {"email": EMAIL, "holder_name": NAME, "passport": SCAN}
    assert record.text("email") == EMAIL
    assert record.data("passport") == SCAN
    assert EMAIL not in repr(record)
    with pytest.raises(TypeError, match="holds bytes"):
        record.text("passport")
    assert vault.get("creditor:1", ["email"]).fields == {"email": EMAIL}
    assert vault.get("creditor:1", ["address"]).fields == {}


def test_a_put_replaces_the_named_fields_and_keeps_the_others(vault: SqlVault) -> None:
    creditor(vault)
    vault.put("creditor:1", {"email": "new@example.org", "address": "1 rue de Rivoli"}, LATER)
    assert vault.get("creditor:1").fields == {
        "address": "1 rue de Rivoli",
        "email": "new@example.org",
        "holder_name": NAME,
        "passport": SCAN,
    }


def test_an_unknown_subject_is_not_found(vault: SqlVault) -> None:
    with pytest.raises(SubjectNotFound):
        vault.get("creditor:404")
    with pytest.raises(SubjectNotFound):
        vault.erase("creditor:404", NOW)
    with pytest.raises(SubjectNotFound):
        vault.seal("creditor:404", "mail_outbox/x", b"...")


def test_put_many_stores_new_known_and_repeated_subjects_in_one_go(vault: SqlVault) -> None:
    creditor(vault, "claim:2")
    items = [
        (f"claim:{i}", {"email": f"c{i}@example.com", "holder_name": f"H {i}"}) for i in range(5)
    ]
    items.append(("claim:3", {"email": "second@example.com"}))  # a repeat: the later one wins
    assert vault.put_many(items, NOW) == 6
    assert vault.get("claim:0").fields == {"email": "c0@example.com", "holder_name": "H 0"}
    assert vault.get("claim:2").fields == {
        "email": "c2@example.com",
        "holder_name": "H 2",
        "passport": SCAN,  # kept: put_many replaces the fields it names
    }
    assert vault.get("claim:3").fields == {"email": "second@example.com", "holder_name": "H 3"}


def test_put_many_is_all_or_nothing(vault: SqlVault) -> None:
    vault.put("claim:1", {"email": "one@example.com"}, NOW)
    vault.erase("claim:1", NOW)
    items = [("claim:0", {"email": "zero@example.com"}), ("claim:1", {"email": "x@example.com"})]
    with pytest.raises(SubjectErased):
        vault.put_many(items, NOW)
    with pytest.raises(SubjectNotFound):
        vault.get("claim:0")


def test_no_plaintext_rests_in_the_database(
    engine: Engine, vault: SqlVault, tmp_path: Path
) -> None:
    creditor(vault)
    vault.put_many([("claim:7", {"email": "bulk.only@example.com"})], NOW)
    with engine.connect() as connection:
        rows = [*connection.execute(select(*tables.pii_fields.c))]
        rows += connection.execute(select(*tables.pii_subjects.c))
    stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for r in rows for v in r)
    for secret in (EMAIL.encode(), NAME.encode(), SCAN, b"bulk.only", b"zhang"):
        assert secret not in stored
    if engine.dialect.name == "sqlite":  # the whole file, write-ahead log included
        files = sorted(tmp_path.glob("log.db*"))
        assert files
        on_disk = b"".join(path.read_bytes() for path in files)
        for secret in (EMAIL.encode(), NAME.encode(), b"bulk.only"):
            assert secret not in on_disk


def _field_row(engine: Engine, subject: str, field: str) -> tuple[bytes, bytes]:
    fields = tables.pii_fields
    with engine.connect() as connection:
        nonce, ciphertext = connection.execute(
            select(fields.c.nonce, fields.c.ciphertext).where(
                fields.c.subject_id == subject, fields.c.field == field
            )
        ).one()
    return bytes(nonce), bytes(ciphertext)


def _set_field_row(engine: Engine, subject: str, field: str, row: tuple[bytes, bytes]) -> None:
    fields = tables.pii_fields
    with engine.begin() as connection:
        connection.execute(
            update(fields)
            .where(fields.c.subject_id == subject, fields.c.field == field)
            .values(nonce=row[0], ciphertext=row[1])
        )


def test_a_ciphertext_moved_to_another_subject_fails_authentication(
    engine: Engine, vault: SqlVault
) -> None:
    creditor(vault, "creditor:1")
    vault.put("creditor:2", {"email": "other@example.com"}, NOW)
    _set_field_row(engine, "creditor:2", "email", _field_row(engine, "creditor:1", "email"))
    with pytest.raises(VaultCorrupt, match=r"'email' of 'creditor:2' fails authentication"):
        vault.get("creditor:2")
    assert vault.get("creditor:1").text("email") == EMAIL


def test_a_ciphertext_moved_to_another_field_fails_authentication(
    engine: Engine, vault: SqlVault
) -> None:
    creditor(vault)
    _set_field_row(engine, "creditor:1", "holder_name", _field_row(engine, "creditor:1", "email"))
    with pytest.raises(VaultCorrupt, match="'holder_name' of 'creditor:1'"):
        vault.get("creditor:1", ["holder_name"])
    assert vault.get("creditor:1", ["email"]).text("email") == EMAIL


def test_a_flipped_bit_fails_authentication(engine: Engine, vault: SqlVault) -> None:
    creditor(vault)
    nonce, ciphertext = _field_row(engine, "creditor:1", "email")
    _set_field_row(
        engine, "creditor:1", "email", (nonce, bytes([ciphertext[0] ^ 1]) + ciphertext[1:])
    )
    with pytest.raises(VaultCorrupt):
        vault.get("creditor:1")


def test_a_wrapped_key_moved_to_another_subject_does_not_unwrap(
    engine: Engine, vault: SqlVault
) -> None:
    creditor(vault, "creditor:1")
    creditor(vault, "creditor:2")
    subjects = tables.pii_subjects
    with engine.begin() as connection:
        stolen = connection.execute(
            select(subjects.c.wrapped_key).where(subjects.c.subject_id == "creditor:1")
        ).scalar_one()
        connection.execute(
            update(subjects).where(subjects.c.subject_id == "creditor:2").values(wrapped_key=stolen)
        )
    with pytest.raises(VaultKeyUnavailable, match="does not open"):
        vault.get("creditor:2")


def test_erasure_destroys_the_key_and_fields_and_leaves_a_tombstone(
    engine: Engine, vault: SqlVault
) -> None:
    creditor(vault, "creditor:1")
    creditor(vault, "creditor:2")
    sealed = vault.seal("creditor:1", "mail_outbox/t1", b'{"code": "12345678"}')
    assert vault.erase("creditor:1", LATER) is True
    assert vault.erase("creditor:1", LATER) is False  # already erased
    for attempt in (
        lambda: vault.get("creditor:1"),
        lambda: vault.put("creditor:1", {"email": EMAIL}, LATER),
        lambda: vault.put_many([("creditor:1", {"email": EMAIL})], LATER),
        lambda: vault.seal("creditor:1", "mail_outbox/t2", b"x"),
        lambda: vault.open("creditor:1", "mail_outbox/t1", sealed),
    ):
        with pytest.raises(SubjectErased, match=r"2026-02-01T09:30:00\.000000Z"):
            attempt()
    assert vault.get("creditor:2").text("email") == EMAIL  # the others are untouched
    subjects, fields = tables.pii_subjects, tables.pii_fields
    with engine.connect() as connection:
        tombstone = connection.execute(
            select(subjects.c.wrapped_key, subjects.c.kek_id, subjects.c.erased_at).where(
                subjects.c.subject_id == "creditor:1"
            )
        ).one()
        left = connection.execute(select(fields.c.field).where(fields.c.subject_id == "creditor:1"))
        assert list(left) == []
    assert tuple(tombstone) == (None, None, "2026-02-01T09:30:00.000000Z")


def test_sealed_blobs_are_bound_to_their_subject_and_purpose(vault: SqlVault) -> None:
    creditor(vault, "creditor:1")
    creditor(vault, "creditor:2")
    sealed = vault.seal("creditor:1", "mail_outbox/t1", b"payload")
    assert b"payload" not in sealed
    assert vault.open("creditor:1", "mail_outbox/t1", sealed) == b"payload"
    with pytest.raises(VaultCorrupt):
        vault.open("creditor:1", "mail_outbox/t2", sealed)
    with pytest.raises(VaultCorrupt):
        vault.open("creditor:2", "mail_outbox/t1", sealed)


def _kek_of(engine: Engine, subject: str) -> str:
    subjects = tables.pii_subjects
    with engine.connect() as connection:
        kek_id: str = connection.execute(
            select(subjects.c.kek_id).where(subjects.c.subject_id == subject)
        ).scalar_one()
    return kek_id


def test_keks_rotate_and_old_keys_are_rewrapped(engine: Engine) -> None:
    before = SqlVault(engine, wrapper(KEK_A))
    creditor(before, "creditor:old")
    rotated = SqlVault(engine, wrapper(KEK_B, KEK_A))  # B active, A still loaded
    creditor(rotated, "creditor:new")
    assert _kek_of(engine, "creditor:old") == KEK_A[0]
    assert _kek_of(engine, "creditor:new") == KEK_B[0]
    assert rotated.get("creditor:old").text("email") == EMAIL
    assert rotated.get("creditor:new").text("email") == EMAIL
    with pytest.raises(VaultKeyUnavailable, match=f"'{KEK_B[0]}' is not loaded"):
        before.get("creditor:new")
    assert rotated.rewrap() == 1
    assert rotated.rewrap() == 0
    assert _kek_of(engine, "creditor:old") == KEK_B[0]
    only_b = SqlVault(engine, wrapper(KEK_B))  # A retired: everything still opens
    assert only_b.get("creditor:old").fields == before_fields()
    assert only_b.get("creditor:new").fields == before_fields()


def before_fields() -> dict[str, str | bytes]:
    return {"email": EMAIL, "holder_name": NAME, "passport": SCAN}


def test_the_wrong_kek_opens_nothing(engine: Engine, vault: SqlVault) -> None:
    creditor(vault)
    impostor = SqlVault(engine, wrapper((KEK_A[0], bytes(32))))  # the right id, other bytes
    with pytest.raises(VaultKeyUnavailable, match=r"wrong vault\.key"):
        impostor.get("creditor:1")
    stranger = SqlVault(engine, wrapper(KEK_B))
    with pytest.raises(VaultKeyUnavailable, match="is not loaded"):
        stranger.get("creditor:1")


def test_the_same_value_encrypts_differently_each_time(engine: Engine, vault: SqlVault) -> None:
    vault.put_many([("claim:1", {"email": EMAIL}), ("claim:2", {"email": EMAIL})], NOW)
    vault.put("claim:3", {"email": EMAIL}, NOW)
    rows = {_field_row(engine, f"claim:{i}", "email") for i in (1, 2, 3)}
    assert len({nonce for nonce, _ in rows}) == 3
    assert len({ciphertext for _, ciphertext in rows}) == 3
