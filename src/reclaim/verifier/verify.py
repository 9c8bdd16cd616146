"""``verify_log``: the whole verification, from a source to a report or the first failure."""

from __future__ import annotations

import time

from reclaim.log.keys import VerifierKey
from reclaim.verifier.checkpoints import read_checkpoints
from reclaim.verifier.keys import check_trusted, read_keys
from reclaim.verifier.outcome import Failed, FailureKind, VerifyFailure, VerifyReport
from reclaim.verifier.pool import pool_size, stream_in_pool, stream_in_process
from reclaim.verifier.replay import Replay
from reclaim.verifier.source import LogSource, Progress, SourceError


def verify_log(
    source: LogSource,
    *,
    trusted_log_key: VerifierKey | None = None,
    trusted_admin_key: VerifierKey | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> VerifyReport | VerifyFailure:
    """Verify the whole log ``source`` serves: a report, or the first failure found.

    ``workers``: ``None`` chooses (one per CPU but one, or none for a small log); ``0`` verifies
    in the calling process; ``n >= 1`` uses a pool of ``n`` processes whatever the log's size.
    """
    try:
        return _verify(source, trusted_log_key, trusted_admin_key, workers, progress)
    except Failed as failed:
        return failed.failure
    except SourceError as exc:
        return VerifyFailure(FailureKind.source_error, None, str(exc))


def _verify(
    source: LogSource,
    trusted_log_key: VerifierKey | None,
    trusted_admin_key: VerifierKey | None,
    workers: int | None,
    progress: Progress | None,
) -> VerifyReport:
    started = time.perf_counter()
    key_set = read_keys(source.keys())
    check_trusted(key_set, trusted_log_key, trusted_admin_key)
    checkpoints = read_checkpoints(source.checkpoints(), key_set)
    total = source.size_hint()
    processes = pool_size(workers, total)
    replay = Replay(source, key_set, checkpoints, trusted_admin_key)
    if processes:
        stream_in_pool(source, key_set, replay, processes, total, progress)
    else:
        stream_in_process(source, key_set, replay, total, progress)
    replay.finish()
    return VerifyReport(
        origin=key_set.origin,
        events=replay.size,
        checkpoints=len(checkpoints),
        consistency_proofs=replay.consistency_proofs,
        root=replay.frontier.root(),
        state_digest=replay.digest.digest(),
        actors=len(replay.state.actors),
        keys=len(replay.state.key_owner),
        workers=processes,
        elapsed_seconds=time.perf_counter() - started,
        authorisations=replay.authorisations.checked,
    )
