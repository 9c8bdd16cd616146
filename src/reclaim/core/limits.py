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
#: SQLite connections an engine keeps open: one per thread reading at once — the server's
#: worker threads (anyio's default, 40) and its own. Beyond its pool SQLAlchemy opens a new
#: connection per checkout (the pragmas, the WAL switch) and closes it after: with the default
#: 5, the portal's claim page under 16 clients spent ~0.9 ms of its 3.8 ms of CPU doing that.
store_sqlite_pool_connections: Final = 48
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

# Money (core/money.py) ------------------------------------------------------------------------

#: Largest asset scale: 10**18 < 2**63, so one major unit always fits a BIGINT of minor units.
asset_scale_max: Final = 18
#: Longest amount text ``parse_amount`` reads: 19 digits of BIGINT, a sign, a point, and up to
#: ``asset_scale_max`` places; anything longer is refused before ``Decimal`` sees it.
amount_text_length_max_chars: Final = 40
#: Most parts ``allocate_pro_rata`` splits into: a distribution round over every claim of a
#: large estate (FTX had about 9 million customer claims), with room to spare. It is also the
#: most rows one round computes over (``distribution.compute``), which keeps exact int64 sums of
#: high/low halves in range.
allocation_parts_max: Final = 16_777_216

# Canonical encoding and the log's files (log/) ------------------------------------------------

#: Object keys the canonical encoder remembers as checked: payload keys come from a few schemas,
#: so a bounded cache of them never misses in practice and cannot grow without bound.
canonical_known_keys_max: Final = 4096
#: Decimal digits of the largest tree size (2**64 - 1); longer checkpoint lines are refused
#: unparsed.
tree_size_digits_max: Final = len(str(tree_size_max))
#: Most leaves of a Merkle tree the store side handles (CompactRange, plans, node keys), and of
#: one asset's tree of liabilities: the tree height bound, so a path has at most 40 steps.
merkle_leaves_max: Final = 2**merkle_height_max

# Proof of liabilities (log/liabilities/) ------------------------------------------------------

#: Assets in one statement: an estate has a handful; bounds the statement (~100 bytes each).
liabilities_assets_max: Final = 32
#: UTF-8 bytes of an account id: ids are short tokens; the length prefix is 2 bytes.
liabilities_account_id_size_max_bytes: Final = 256
#: Largest proof a verifier reads: 40 steps (~3 kB) and a statement of ``liabilities_assets_max``
#: assets (~4 kB) fit; a proof of a 1,000,000-leaf tree in one asset is under 2 kB.
liabilities_proof_size_max_bytes: Final = 16 * 1024
#: Longest decimal spelling of a sum or a size: 2**64 has 20 digits.
liabilities_decimal_digits_max: Final = 20

# The independent verifier (verifier/) ---------------------------------------------------------

#: Logs of at most this many events are verified without a process pool: spawning workers (an
#: interpreter start and this package's imports, ~0.1 s of CPU each, more if the program's main
#: module is heavy: spawn imports it again) costs more than it saves on two bundles.
verifier_in_process_events_max: Final = 2 * bundle_size_max
#: Longest key id quoted in a failure message (key ids are 8 hex digits; a forged one may not be).
verifier_quoted_key_id_max_chars: Final = 64

# Ledger (core/ledger/) ------------------------------------------------------------------------

#: Transfers in one ``CreateTransfers`` command, hence in one ``ledger.transfers_created``
#: event: a transfer's payload is at most ~700 bytes, so 64 stay well under
#: ``event_size_max_bytes`` (64 KiB). TigerBeetle's batches are larger; bulk callers send
#: more commands (the log service commits them together anyway).
transfers_per_command_max: Final = 64
#: Accounts in one ``OpenAccounts`` command (~300 bytes each in the event).
accounts_per_command_max: Final = 64
#: Pending transfers one ``ledger.pending_expired`` event voids (ids of at most 64 characters);
#: a sweeper with more due calls ``ExpirePending`` again.
expiries_per_event_max: Final = 512
#: Longest client-chosen transfer id (a UUID is 36) and longest reference value.
transfer_id_length_max_chars: Final = 64
#: Longest timeout of a pending transfer: a withdrawal or an order's reservation held for more
#: than a year is a bug in the caller. Zero means "never expires".
pending_timeout_max_seconds: Final = 366 * 24 * 3600

# Claims, policies and onboarding (core/claims/) -----------------------------------------------

#: Claims in one ``claims.imported`` event. A claim's item is at most ~450 canonical bytes (two
#: 64-hex commitments, two 64-character ids, the field names), so 128 stay under
#: ``event_size_max_bytes`` (64 KiB) with room for the envelope; a test encodes the
#: worst case. A register of 1,000,000 claims is ~7,800 events.
claims_per_event_max: Final = 128
#: Amendments in one ``claims.amended`` event (at most ~260 bytes each: a claim id, a field
#: name, two 64-hex commitments).
amendments_per_event_max: Final = 192
#: Entries in one ``jurisdiction.policy_set`` event (at most ~1.4 kB each: a reason of
#: ``policy_reason_length_max_chars`` in any script, an ASCII source, the rails).
policy_entries_per_event_max: Final = 32
#: Dated entries one jurisdiction's history keeps: a policy changes a few times a year.
policy_history_max: Final = 1024
#: Classes of one estate (FTX's plan has about ten).
classes_per_estate_max: Final = 32
#: Lowest-numbered priority is paid first; 1,000 levels is more than any plan has.
class_priority_max: Final = 1000
#: Longest estate or class name, and longest operator reason (unlinking, reviewing).
claims_name_length_max_chars: Final = 200
#: Longest reason of a policy entry (the public log carries it; a sentence, not a memo).
policy_reason_length_max_chars: Final = 200
#: Longest source of a policy entry: a URL or a docket reference, ASCII (URLs are).
policy_source_length_max_chars: Final = 256
#: Payout rails one policy entry may name.
policy_rails_per_entry_max: Final = 8
#: Highest consensus interest rate: 100% a year (FTX's is 9%, 900 bps).
consensus_rate_max_bps: Final = 10_000
#: E-mail addresses one creditor may prove: a few old accounts, not a harvest.
email_proofs_per_creditor_max: Final = 16
#: Claims linked to one creditor: one e-mail may hold several claims (several estates,
#: entities or schedules).
links_per_creditor_max: Final = 64

# Distribution (core/distribution/) ------------------------------------------------------------

#: Highest cap of a class: 1,000% of the admitted amount (FTX paid up to ~142%); also bounds
#: ``cumulative_bps``. Keeps ``admitted × bps`` within 64 bits for admitted amounts up to
#: ``admitted_max_minor``.
cap_bps_max: Final = 100_000
#: Largest admitted amount one claim may have for a distribution: $10 billion. With
#: ``cap_bps_max`` the product stays below 2**63 (10**12 × 10**5 = 10**17).
admitted_max_minor: Final = 10**12
#: Longest round id (it is a ledger reference: ``[A-Za-z0-9][A-Za-z0-9._:-]``).
round_id_length_max_chars: Final = 32
#: Rounds one estate may declare: FTX planned about ten.
rounds_per_estate_max: Final = 256
#: Statuses a plan may name as paid or reserved.
statuses_per_plan_max: Final = 5
#: Lines in one ``distribution.lines_executed`` event: a line is at most ~420 canonical bytes
#: (a 64-character claim id twice, an 80-character account, the field names), so 64 stay well
#: under the 64 KiB event bound. The executor sends as many events as a round needs.
lines_per_event_max: Final = 64
#: Largest numerator or denominator of an FX rate: 12 significant digits is finer than any
#: published rate (EUR at 0.9234 is 9234/10000; USDC per USD cent is 10000/1).
fx_term_max: Final = 10**12
#: Distinct values of a low-cardinality text column (class, status, destination, reason,
#: asset, jurisdiction): ISO 3166-1 has 249 codes; a column with more is not such a column.
distribution_vocabulary_max: Final = 4096
#: Payments listed as the largest and as the smallest in a summary.
distribution_summary_payments_max: Final = 5
#: Longest text a Polars string view holds inline (longer text lives in shared buffers): a fact
#: of Polars that the memory estimate of a round's frame relies on.
polars_inline_string_max_bytes: Final = 12
#: Longest forfeiture reason of an escrow.
forfeiture_reason_length_max_chars: Final = 200
#: Longest FX source (a URL or a feed name).
fx_source_length_max_chars: Final = 256
#: Decimal places of a recorded FX rate...
fx_rate_decimals_max: Final = 12
#: ...and the largest rate (units of the asset per USD): the weakest currency is far below it.
fx_rate_max: Final = 1_000_000
#: Longest interest period: 100 years (FTX's plan runs a few). Bounds the size of a compound
#: factor (about 27 bits of numerator per anniversary).
interest_days_max: Final = 36_525
#: Batches of lines (``lines_per_event_max`` each) one group commit carries: 16 × 64 = 1,024
#: lines per fsync.
distribution_batches_per_submit_max: Final = 16

# Withdrawals (core/withdrawals/, app/withdrawals.py, the rails) -------------------------------

#: Rails' terms in one ``withdrawal.fees_set`` event: one per rail, with room for new rails.
fee_terms_per_event_max: Final = 8
#: Tiers one fee schedule may have: price lists have two or three; 16 is generous and keeps the
#: event and the linear search small.
fee_tiers_max: Final = 16
#: Longest withdrawal id: ISO 20022's ``EndToEndId`` is ``Max35Text``, and the id is the
#: end-to-end id of the SEPA payment (so the bank statement names it back) and the stem of the
#: ledger transfer ids ``wd:<id>:fee:void`` (47 ≤ the ledger's 64).
withdrawal_id_length_max_chars: Final = 35
#: Withdrawals a creditor may have in flight (requested, not confirmed, failed or expired): a
#: person has a handful of payouts pending; more is a script gone wrong. It also bounds the
#: work of counting them.
open_withdrawals_per_creditor_max: Final = 16
#: Longest pending timeout of a withdrawal: the ledger's bound (a year).
withdrawal_timeout_max_seconds: Final = pending_timeout_max_seconds
#: Longest rail reference (a bank's reference is at most 35 characters, a transaction hash 66).
rail_reference_length_max_chars: Final = 128
#: Live (pending or confirmed) destinations of one creditor: a person has a bank account or
#: two and a wallet; more is a script, or someone filling the owner's mailbox with codes.
destinations_per_creditor_max: Final = 16
#: Longest cooling-off a confirmation may carry: 30 days (longer is a destination never used).
destination_cooling_off_max_seconds: Final = 30 * 24 * 3600
#: Withdrawals one batch file pays at most (each rail has its own, lower or equal, bound).
withdrawal_batch_size_max: Final = 500
#: Withdrawals one ``views`` call lists at most.
withdrawal_views_page_max: Final = 1000
#: Withdrawals or destinations one ``GET /wapi/v1/capital/...`` page lists at most.
withdrawals_page_max: Final = 1000
#: Backpack's ``clientId`` is a uint32 (withdrawal requests and market orders alike).
client_id_max: Final = 2**32 - 1
#: ``Max35Text``: the longest ``MsgId`` (the batch id) and ``PmtInfId`` of a SEPA pain.001.
sepa_id_length_max_chars: Final = 35
#: Payments in one pain.001 file: banks take far more, but a batch that is too large to check
#: by eye is one an operator cannot vouch for; more withdrawals make more batches.
sepa_payments_per_file_max: Final = 10_000
#: ``Max70Text``: the longest party name of pain.001 (the EPC's guidelines).
sepa_name_length_max_chars: Final = 70
#: MT103 field 59's line length: the longest name a wire carries on one line.
hk_wire_name_length_max_chars: Final = 35
#: Wires in one instruction file (a batch an operator can still review line by line).
hk_wire_payments_per_file_max: Final = 1_000
#: Transfers in one USDC custody batch (a multi-signature batch is reviewed before it is signed).
usdc_payments_per_file_max: Final = 500

# Market and notes (core/market/, core/notes/) -------------------------------------------------

#: Consecutive non-business days a deadline may be pushed over before the calendar is refused
#: as nonsense (a weekend plus a long holiday run is well under this).
calendar_roll_days_max: Final = 31

# Operator files (adapters/files/) and the claims import (app/claims_import.py) ----------------

#: Largest fee terms file read: a few rails of a few lines each.
fee_file_size_max_bytes: Final = 64 * 1024
#: A policy file is a few hundred rows (one or a few per jurisdiction).
policy_file_rows_max: Final = 10_000
#: Longest cell value quoted in a register problem: enough to recognise the value, not a dump.
register_value_shown_max_chars: Final = 60
#: Convenience class 7 of the synthetic register is for allowed claims up to $50,000.
synthetic_convenience_claim_max_cents: Final = 5_000_000
#: Longest line the round file reader accepts: 14 fields of at most ~128 characters (ids,
#: references).
round_file_line_length_max_bytes: Final = 4096
#: Classes one round plan may name (the claims core's bound on an estate's classes).
round_plan_classes_max: Final = classes_per_estate_max
#: Largest bank statement file read: a busy account's month is a few MB of camt.053.
statement_size_max_bytes: Final = 64 * 1024 * 1024
#: Lines (transactions) in one statement: a month of a busy payout account, with room.
statement_lines_max: Final = 1_000_000
#: Problems listed in a ``StatementError``; a file with more is the wrong file.
statement_problems_max: Final = 100
#: Longest reference or bank reference kept (ISO 20022 ``Max35Text``; banks' own up to 140).
statement_reference_length_max_chars: Final = 140
#: Claims whose vault entries and commands are written together: a crash leaves at most this
#: many unused vault entries; 32,768 claims are 256 ``claims.imported`` events, a few seconds.
import_chunk_claims_max: Final = 32_768

# Onboarding, KYC and the portal (app/, adapters/kyc.py, entrypoints/web/, entrypoints/api/) ---

#: Longest code or confirmation key read as typed (before folding): the longest real one is 20
#: characters; the rest of a pasted essay is never normalised.
typed_code_length_max_chars: Final = 64
#: ``v1`` signatures read from one KYC webhook header (a key rotation needs two).
kyc_webhook_signatures_max: Final = 4
#: Largest KYC document kept: a phone's photo of a passport or identity card (a 12-megapixel
#: JPEG is 2 to 4 MiB) fits; a video or a whole scanned file does not.
kyc_document_max_bytes: Final = 5 * 1024 * 1024
#: Largest body of the portal's KYC upload (``POST /kyc``, multipart): the document and the
#: form's envelope (boundaries, headers, the CSRF token). The request-limits middleware allows it
#: on that route only; every other route keeps ``request_body_max_bytes``.
kyc_upload_body_max_bytes: Final = kyc_document_max_bytes + 16 * 1024
#: Bytes of an over-limit upload read and thrown away before the refusal page is sent (so a
#: browser, which sends the whole body before reading the answer, sees the page and not a reset
#: connection); a body declared or sent beyond it is cut off without a page.
upload_drain_max_bytes: Final = 4 * kyc_upload_body_max_bytes
#: Transfers of one claim's accounts the portal reads at most (a claim gets one per round, plus
#: FX legs).
claim_history_transfers_max: Final = 200
#: Claims reports the API keeps (estate x date x log size); a new log size makes the old ones
#: unreachable.
claims_report_cache_entries_max: Final = 64
#: Widest bar of a chart, in pixels (the largest row fills it; the chart is 400 wide).
chart_bar_width_max: Final = 400
#: Most rows in a chart (the rest are summed into one row by the caller).
chart_rows_max: Final = 12
#: Jurisdictions the chart draws one by one (the rest are one "other" row).
chart_jurisdictions_max: Final = chart_rows_max - 1
#: Fields a portal form carries at most...
form_fields_max: Final = 32
#: ...and its longest text field (the body limit is the API's).
form_field_text_max_chars: Final = 4096
#: Longest Accept-Language header read...
accept_language_max_chars: Final = 512
#: ...and most ranges considered (a bound on the work).
accept_language_ranges_max: Final = 32
#: How long the portal's language cookie lives: a year, for the language choice.
lang_cookie_max_age_seconds: Final = 365 * 24 * 3600
#: Renderings of the portal's shared public pages kept (languages × the addresses the server is
#: reached at); at the bound the cache starts over, so made-up Host headers cannot grow it.
shared_pages_max: Final = 32
#: Live web sessions a server process keeps in memory (who each is, until when), so a page does
#: not read and decrypt the vault's record each time; at the bound it starts over.
web_sessions_cached_max: Final = 4096
#: Creditor pages kept per log position (a claim page's data, and its rendering per session);
#: at the bound the cache starts over: a page is then read and rendered again.
creditor_pages_cached_max: Final = 512
#: Longest CSRF token or session id read (a bound on the work; real ones are 43 characters).
web_token_max_chars: Final = 128
#: Longest id (a destination, a creditor, a claim) the portal reads from a form field before it
#: looks it up: the longest id reclaim makes is an account id of 80 characters.
web_form_id_max_chars: Final = 80
#: Escrows one page of the operator console lists at most.
web_escrow_page_max: Final = 200
