"""The transparency log's formats: canonical bytes, signed events, the Merkle tree (RFC 6962/9162)
and its proofs, checkpoints as C2SP signed notes, key ids, and the proof of liabilities.

Imports only ``core``; imported by ``app``, the ``verifier`` and above.
"""
