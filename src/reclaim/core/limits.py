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
#: Deepest nesting of a JSON body: every request body is a flat object; 32 leaves room and stops
#: a body of nested brackets long before Python's recursion limit (``app.bounded_json``).
json_depth_max: Final = 32
#: Most digits of a JSON number: amounts travel as strings, ids are at most 20 digits; CPython
#: refuses to parse integers of more than 4,300 digits with an uncaught ``ValueError``.
json_number_digits_max: Final = 32
#: Longest string of a JSON body: the longest field (a password, a reason) is far shorter.
json_string_max_chars: Final = string_length_max_chars
#: Most items of one JSON array or members of one object in a request body.
json_items_max: Final = 1024
#: Longest query string: every query is a few bounded integers.
query_string_max_bytes: Final = 2048

# Signed API requests (Backpack's scheme) and the ledger's queries ---------------------------------

#: The window of a signed request when ``X-Window`` is absent (Backpack's default).
request_window_default_ms: Final = 5_000
#: The longest window a signed request may ask for (Backpack's maximum).
request_window_max_ms: Final = 60_000
#: Signatures the replay cache remembers at once, each until its request's window closes (~300
#: bytes each, so ~40 MB): 131,072 requests in flight over the default 5 s window is ~26,000
#: signed requests/s, more than one API process verifies (~10,000 Ed25519 checks/s per core).
#: When full, new signed requests get 429 until windows close; none is ever forgotten early.
replay_cache_max_entries: Final = 131_072
#: Signed writes (signed requests other than GET/HEAD) one actor may make in a burst: each may
#: append an event and stores a request mark, so one key cannot grow the public log and the
#: mark table without bound (issue 9, finding 7). A creditor makes a handful a session, a KYC
#: officer deciding by hand well under one every 5 s; a script slows down on 429 Retry-After.
signed_writes_per_actor_max: Final = 120
#: ...per this period (GCRA: a burst of 120, then one every 5 seconds: 17,280 a day at most).
signed_writes_per_actor_period_seconds: Final = 600
#: Transfers in one page of an account's history (``GET /ledger/accounts/{id}/transfers``).
history_page_max: Final = 500

# Claims register import (adapters/register_file.py) ------------------------------------------

#: Rows (claims) in one register file: FTX had about 9 million customer claims; 2**24 leaves
#: room and matches ``allocation_parts_max`` (a round splits over every claim).
register_rows_max: Final = 16_777_216
#: Size of one register file: 2**24 rows of ~120 bytes is ~2 GB; the file is read into memory
#: once (its SHA-256 is the register id of exactly the bytes imported).
register_file_size_max_bytes: Final = 2 * 1024**3
#: Errors listed in a register report; the rest are counted. 1,000 lines is what an operator
#: reads; a file with more is systematically wrong (wrong column, wrong export).
register_report_errors_max: Final = 1000
#: Longest claim id and customer code: FTX claim numbers and schedule codes are ~20 characters.
claim_id_length_max_chars: Final = 64
#: Longest e-mail address, in UTF-8 bytes: RFC 5321's 256-octet path less the angle brackets.
email_length_max_bytes: Final = 254
#: Longest local part of an e-mail address, in UTF-8 bytes (RFC 5321 §4.5.3.1.1).
email_local_part_max_bytes: Final = 64
#: Longest holder name: legal names with several given names, in any script.
holder_name_length_max_chars: Final = 256
#: Longest claim class code (``5A``, ``6B``, ``7``, ``convenience``...).
claim_class_length_max_chars: Final = 16

# PII vault, mail, one-time codes, rate limits, passwords (issue 4) ---------------------------

#: Longest vault subject id: a claim or creditor id, with a short kind prefix ("claim:...").
pii_subject_id_length_max_chars: Final = 128
#: Largest field value the vault stores (bytes of UTF-8 text, or a document): a passport scan is
#: 1-5 MB; anything larger belongs in object storage, with its key and hash in the vault.
pii_field_value_max_bytes: Final = 8 * 1024 * 1024
#: Subjects per insert call of the vault's bulk path (``put_many``): bounds memory and the size
#: of one driver call; the whole import is still one transaction.
vault_put_chunk_subjects: Final = 4096
#: Subjects re-wrapped per call after a KEK rotation: one short transaction each.
vault_rewrap_batch_max: Final = 1000
#: Digits of a one-time code: 10**8 codes, so 5 attempts per code give a 5e-8 chance per code
#: (6 digits would give 5e-6); a code is typed once, 8 digits is still easy to copy.
one_time_code_digits: Final = 8
#: Lifetime of a one-time code: long enough for a slow mailbox, short enough to be useless later.
one_time_code_lifetime_seconds: Final = 15 * 60
#: Wrong guesses before a code is burnt (the next check, even with the right code, fails).
one_time_code_attempts_max: Final = 5
#: Code e-mails per address per hour: a person needs one or two; this stops mail bombing a
#: mailbox and bounds guesses per address to 25 an hour (5 codes x 5 attempts).
code_sends_per_address_max: Final = 5
#: ...per this period (GCRA: a burst of 5, then one every 12 minutes).
code_sends_per_address_period_seconds: Final = 3600
#: Code e-mails per client (IP address) per hour: generous, as many creditors share carrier NATs.
code_sends_per_client_max: Final = 30
#: ...per this period (a burst of 30, then one every 2 minutes).
code_sends_per_client_period_seconds: Final = 3600
#: Code checks per client per hour: stops one client from spraying guesses across addresses.
code_checks_per_client_max: Final = 60
#: ...per this period (a burst of 60, then one a minute).
code_checks_per_client_period_seconds: Final = 3600
#: Expired codes and idle rate-limit buckets deleted per prune call: one short transaction.
prune_batch_max: Final = 10_000
#: Delivery attempts of one e-mail before it is given up and listed for the operator; with the
#: backoff below they span about 5 hours of outage.
mail_attempts_max: Final = 12
#: First retry delay of an e-mail, doubled at each failure...
mail_backoff_base_seconds: Final = 30
#: ...up to this: an hour between tries once the outage is long.
mail_backoff_max_seconds: Final = 3600
#: E-mails one delivery run sends: with ``smtp_timeout_seconds`` it bounds a run to 400 s.
mail_delivery_batch_max: Final = 20
#: How long a message handed out by ``Outbox.due`` is reserved for its worker: longer than the
#: longest run (20 x 20 s), so two workers never send one message at once.
mail_claim_lease_seconds: Final = 900
#: How long one SMTP operation (connect, each command) may take.
smtp_timeout_seconds: Final = 20
#: Longest error text kept on an outbox row (an SMTP answer is one line; tracebacks are not kept).
mail_error_length_max_chars: Final = 1000
#: Failed e-mails listed for the operator at once.
mail_failed_page_max: Final = 500
#: Longest password accepted: argon2 takes any length, but hashing is work we do not give away.
password_length_max_chars: Final = 1024
#: Argon2 hashes computed at once per process: each takes 64 MiB, so a burst of sign-ups cannot
#: exhaust memory (2 cores: more at once would only queue on the CPU anyway).
password_hash_concurrency_max: Final = 2

# Onboarding and KYC (issue 4) ------------------------------------------------------------------

#: Shortest password accepted at sign-up (NIST SP 800-63B: at least 8).
password_length_min_chars: Final = 8
#: Longest verified name a KYC decision carries (the register's holder names are bounded alike).
verified_name_length_max_chars: Final = 200
#: How far a KYC webhook's signed timestamp may be from the server's clock: Stripe's default
#: (5 minutes) - long enough for a provider's retry queue, short enough that a captured webhook
#: cannot be replayed later (and event ids make replays no-ops anyway).
kyc_webhook_tolerance_seconds: Final = 300
#: Largest KYC webhook body: a decision is a few hundred bytes of JSON.
kyc_webhook_body_max_bytes: Final = 16 * 1024
#: Cases and conflicts the operator's KYC queue lists at once.
kyc_queue_page_max: Final = 500
#: Seconds between two runs of the mail delivery loop of ``reclaim serve``: a code e-mail
#: leaves within this, and an idle loop costs one indexed query.
mail_delivery_interval_seconds: Final = 2

# Market and recovery notes (issue 11) ----------------------------------------------------------

#: Markets listed at once: one per note series (an estate has a handful of classes), with room
#: for many estates.
market_markets_max: Final = 256
#: Orders in one batch (``POST /api/v1/orders``): a market maker's ladder of quotes on both
#: sides. Also bounds the order ids one event takes (``market_order_ids_per_event``).
market_batch_orders_max: Final = 50
#: Order ids reserved per event: an order's id is ``sequence × this + position`` (position in
#: its batch), so ids are unique, follow the log and give price-time priority. ≥ the batch bound.
market_order_ids_per_event: Final = 64
#: Resting orders one taker may fill (or cancel by self-trade prevention) in one placement: bounds
#: the work of one event; the remainder of a taker that reaches it is expired, never rested.
market_fills_per_order_max: Final = 1000
#: Resting orders one trader may have in one market (Backpack's ``limitOrders`` is of this size):
#: bounds a cancel-all event (it lists every id it cancels).
market_open_orders_per_trader_max: Final = 500
#: Largest order, in quantity steps: 10**12 steps of $1 face is a trillion dollars of face.
market_quantity_steps_max: Final = 10**12
#: Highest limit price as a multiple of face value: FTX claims traded up to ~1.4x face with
#: interest; ten times face is a typing error, not a bid.
market_price_face_multiple_max: Final = 10
#: Most decimal places of a price (a fraction of face value): 10**-6 is a ten-thousandth of a cent
#: on the dollar, finer than any claims trader quotes.
market_price_decimals_max: Final = 6
#: Highest maker or taker fee, in basis points: 10%; the programme is non-profit (default 0).
market_fee_bps_max: Final = 1000
#: Note series defined at once: one per (estate, claim class).
notes_series_max: Final = 256
