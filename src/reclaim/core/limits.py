"""Every bound in reclaim, named, in one place, each with the reason it has that value.

A loop, a batch, a request or a file that grows with input has one of these as its limit. Units
are the last word of each name.
"""

from typing import Final

# Canonical encoding --------------------------------------------------------------------------

#: Largest integer the canonical encoding accepts (PostgreSQL BIGINT, SQLite INTEGER).
integer_max: Final = 2**63 - 1
#: Smallest integer the canonical encoding accepts.
integer_min: Final = -(2**63)
#: Deepest nesting of objects/arrays in an event payload: payloads are shallow records.
canonical_depth_max: Final = 16
#: Largest canonical event, in bytes: an event is a record, not a document store.
event_size_max_bytes: Final = 64 * 1024
#: Longest string in an event (a document title, a reason).
string_length_max_chars: Final = 8 * 1024
#: Longest object key; keys are lower-case ASCII identifiers.
key_length_max_chars: Final = 64

# Log --------------------------------------------------------------------------------------------

#: Deepest Merkle tree supported: 2**40 leaves is ~10**12 events, far beyond any estate.
merkle_height_max: Final = 40
#: Events appended in one transaction by group commit: bounds latency and transaction size.
append_batch_max: Final = 2048
#: Events per exported bundle file (and per /log/entries page).
bundle_size_max: Final = 4096
#: Events served by one GET /log/entries request.
entries_page_max: Final = 1000
#: Publish a checkpoint at the latest after this many new events...
checkpoint_interval_events: Final = 1000
#: ...or after this many seconds with new events.
checkpoint_interval_seconds: Final = 10
#: Checkpoints served by one GET /log/checkpoints request.
checkpoints_page_max: Final = 1000
#: Longest origin line of a checkpoint (C2SP: a schema-less URL-like name).
origin_length_max_chars: Final = 255
#: Largest tree size a proof verifier or checkpoint parser accepts (RFC 9162 and C2SP: uint64).
tree_size_max: Final = 2**64 - 1
#: Largest signed note, in bytes: C2SP wants room for 16 signatures of up to ~5 kB (post-quantum).
note_size_max_bytes: Final = 128 * 1024
#: Most signature lines in a note: bounds verification work (the figure Go's sumdb/note uses).
note_signatures_max: Final = 100

# Event store ------------------------------------------------------------------------------------

#: How long an SQLite writer waits for another process's write transaction: a batch of
#: ``append_batch_max`` events commits in tens of milliseconds, so 30 s means the peer is stuck.
store_busy_timeout_seconds: Final = 30
#: How long opening a PostgreSQL connection may take before the store reports it unavailable.
store_connect_timeout_seconds: Final = 10
#: Leaves per transaction of the benchmark's bulk node loader: bounds the memory of one commit.
bulk_load_chunk_leaves: Final = 262_144

# HTTP -----------------------------------------------------------------------------------------

#: Largest request body the API reads: one signed instruction, never a bulk upload.
request_body_max_bytes: Final = 64 * 1024
#: Longest query string: every query is a few bounded integers.
query_string_max_bytes: Final = 2048
