"""The independent verifier: replays a public log from files or a URL, with no database.

Anyone can run it (DESIGN §1, §7): it reads the log through a ``LogSource`` — the files of an
export (``reclaim.adapters.log_sources.DirectorySource``) or a running server's read-only API
(``HttpSource``) — and checks everything the operator signed, replaying every event through the
same pure core (``check`` and ``evolve``) that the operator ran when it appended them.

What lives here, and who may import it
--------------------------------------
- ``source``: the port, ``LogSource`` and ``SourceError``, which the adapters implement;
- ``keys`` (step 1), ``checkpoints`` (step 2), ``bundles`` (steps 3a-c), ``replay``
  (steps 3d-e and 4), ``pool`` (the worker pool), ``verify`` (``verify_log``) and
  ``outcome`` (``VerifyReport``, ``VerifyFailure``, ``FailureKind``).

The package imports ``reclaim.core``, ``reclaim.log`` and itself only: never ``reclaim.app``,
the adapters, ``reclaim.bootstrap`` or the entrypoints (an import-linter contract in
``pyproject.toml``), so that what it checks does not depend on the server side it checks.
Anything may import it; the CLI's ``reclaim verify`` and the adapters' log sources do.

Theory of operation
-------------------
The checks run in this order and the verifier stops at the first failure, which it returns as a
``VerifyFailure`` naming what is wrong and where (the seq, the checkpoint, the file and line):

1. **keys**: ``keys.json`` is the canonical key set (``reclaim.log.public_keys``); the log key and
   every actor key are verifier keys; key ids are unique; revoked ids are keys of their actor.
   Keys the user trusts (``trusted_log_key``, ``trusted_admin_key``) must be the published ones.
2. **checkpoints**: every note is signed by the log key (``open_checkpoint``) and names the
   origin of ``keys.json``; sizes strictly increase and are not 0 (the genesis event comes
   first); each carries the ``reclaim-state`` extension (``reclaim.log.digest``).
3. **entries**, streamed bundle by bundle in order. Bundles are contiguous. For each leaf:
   a. canonical and well formed (``reclaim.log.event.parse_leaf``);
   b. its ``seq`` is its position, so a dropped, duplicated or reordered event is named;
   c. signed by a key that ``keys.json`` lists, found by key id, and the signature verifies;
   d. the core accepts it after the events before it (``check``; a rejection is a failure);
      an order or cancel that keeps its trader's signed API request has that signature checked
      against the trader's live key (``authorisations``; ``authorisation_invalid``); the key
      it names is, in the replayed state, the same key ``keys.json`` lists; ``evolve``;
   e. its leaf hash joins the Merkle frontier (``merkle.CompactRange``).
   When the frontier reaches a checkpoint's size: the root equals the signed root; the state
   digest of the replay equals the signed one; when the source serves proofs, the RFC 9162
   consistency proof from the previous checkpoint verifies. Equal roots at every checkpoint
   already make consecutive checkpoints consistent; the proof check tests the server's proofs.
   At seq 0 the genesis event must name the origin and log key of ``keys.json``.
4. **the end**: no checkpoint lies beyond the log; every event is covered by a checkpoint (the
   exporter always publishes one at the end); ``keys.json`` equals the key set of the replayed
   state byte for byte.

Parallelism
-----------
Steps 3a-c and the leaf hash are independent from one leaf to the next and cost nearly all of
the time (an Ed25519 verification, a canonical re-encoding). A ``ProcessPoolExecutor`` (spawn
context) takes whole bundles as raw bytes and returns compact results: the leaf hashes, each
event as a plain tuple, and the first fault of the bundle. The main process keeps the workers
``bundles_ahead_per_worker`` bundles ahead, takes results back in order and does steps 3d-e,
which must see the events one after the other; when the next result is not ready it checks a
later bundle itself instead of waiting. So the pool has one worker per CPU *but one*: the main
process is the last checker, and the busy processes never outnumber the CPUs (measured: two
workers and a busy main process on two CPUs cost ~10 µs more CPU per event, in context switches
and caches lost, than one worker and the main process). Small logs (``in_process_events_max``)
are verified in the calling process. Every path runs the same ``BundleChecker`` and replays in
the same order, so they report the same thing.

Where the time goes (CPU per event, 2-vCPU reference machine, ``benchmarks/bench_verify.py``):
~85 µs for the Ed25519 verification, ~17 µs for ``parse_leaf`` (a JSON parse and a canonical
re-encoding), ~1 µs for the leaf hash; ~6 µs for ``check`` and ``evolve``, ~9.5 µs for the
incremental state digest (one entity per event), a few µs for the pool's pickling, the frontier
and the loops. The verification alone is the floor; the benchmark reports the ratio of the two.

Outcomes and errors
-------------------
- ``verify_log`` returns a ``VerifyReport``, or a ``VerifyFailure`` (a value, not an exception:
  a log that does not verify is a finding): ``kind`` (``FailureKind``), ``seq`` (``None`` when
  the failure is not about one event), ``checkpoint`` (a tree size or ``None``) and ``detail``,
  a sentence naming the place.
- ``SourceError``: raised by a ``LogSource`` that cannot serve what was asked (an I/O or HTTP
  error, a missing or unexpected file); ``verify_log`` returns it as a ``VerifyFailure`` of kind
  ``source_error``.
- ``ValueError`` for a bad argument (negative ``workers``); ``BrokenProcessPool`` if a worker
  process dies (killed, out of memory) — an operating error, not a finding; ``assert`` for bugs.

Known limits: the whole list of checkpoints is held in memory (a note is at most
``limits.note_size_max_bytes``); a source that is a live server may answer ``/log/keys`` with keys
registered after its latest checkpoint, which reads as ``keys_disagree`` — verify again.
"""

from __future__ import annotations

from reclaim.verifier.outcome import FailureKind, VerifyFailure, VerifyReport
from reclaim.verifier.replay import invariant_failure
from reclaim.verifier.source import LogSource, Progress, SourceError
from reclaim.verifier.verify import verify_log

__all__ = [
    "FailureKind",
    "LogSource",
    "Progress",
    "SourceError",
    "VerifyFailure",
    "VerifyReport",
    "invariant_failure",
    "verify_log",
]
