"""Proof of liabilities: a Merkle *sum* tree per asset, a signed statement, a proof per creditor.

What lives here: ``formats`` (prefixes, sizes, bounds), ``errors``, ``hashing`` (salt, leaf and
node hashes), ``statement`` (the signed statement), ``proof`` (a proof's JSON and path steps),
``build`` (the operator's side: snapshot and proofs, with numpy) and ``verify`` (the creditor's
side: small and pure). The package imports the core and the rest of ``reclaim.log`` only;
anything above the log may import it.

Sources:

- G. Maxwell's proof-of-reserves Merkle tree (bitcointalk, 2013; Z. Wilcox-O'Hearn's write-up
  "Proving your bitcoin reserves", 2014): each leaf is a customer's (hashed id, balance), each
  node carries the *sum* of its children and a hash over that sum and the children's hashes;
  each customer checks the path from their leaf to the published root and total.
- The flaw: K. Hu, Z. Zhang, K. Guo, "Breaking the Binding: Attacks on the Merkle Approach to
  Prove Liabilities and its Applications", IACR ePrint 2018/1139; surveyed with its fixes in
  K. Chalkias, K. Lewi, P. Mohassel, V. Nikolaenko, "Distributed Auditing Proofs of
  Liabilities" (ePrint 2020/468) and Y. Ji, K. Chalkias, "Generalized Proof of Liabilities"
  (ACM CCS 2021, ePrint 2021/1350). If a node's hash commits only to the *total* of its
  children, an operator can publish ``max(left, right)`` as a node's sum and hand each side the
  sibling sum that makes its arithmetic add up (``max - own``): every customer's check passes,
  yet the published total is too small (the "max" attack).
- The fix, proposed by Hu, Zhang and Guo and used by later designs (Summa's Merkle sum tree,
  whose middle nodes hash the left hash and balances and the right hash and balances; Binance's
  later proof of reserves): the node hash commits to *each child's sum separately*,
  ``H(left_hash || left_sum || right_hash || right_sum)``, so the sums a customer is shown are
  the sums that were hashed; and amounts are fixed-width unsigned integers with every sum
  range-checked, so no balance can be negative or wrap around.

Construction (version 1, frozen by the tests):

- One tree per asset: sums of different assets never mix, and a proof is for one account in
  one asset. Leaves are the non-zero ``(account id, asset, balance)`` liabilities; a zero
  balance has no leaf and a negative one is refused (``LiabilityInputError``).
- Salt: ``HMAC-SHA256(secret, SALT_PREFIX || lp(account) || lp(asset) || lp(snapshot id))``
  (RFC 2104), where ``lp(x)`` is the UTF-8 bytes of ``x`` after their length as 2 bytes
  big-endian. A creditor receives their own salt in their proof; without the operator's secret
  nobody can derive another's, so a leaf hash does not reveal a guessable balance.
- Leaf: hash ``SHA-256(LEAF_PREFIX || salt || lp(account) || lp(asset) || u64be(balance))``,
  sum ``balance``.
- Node: hash ``SHA-256(NODE_PREFIX || left_hash || u64be(left_sum) || right_hash ||
  u64be(right_sum))``, sum ``left_sum + right_sum``.
- Leaf order: ascending by leaf hash (bytes). The salt makes that order pseudo-random, so a
  leaf's index says nothing about who owns it; the index is in the proof.
- Shape: RFC 9162 §2.1.1 (as ``reclaim.log.merkle``): ``n > 1`` leaves split at the largest
  power of two below ``n``; built level by level, an odd node at the right edge is carried up
  unchanged. There is no padding at all, so no padding node can hide or carry value; the path
  of leaf ``i`` of ``n`` (which sibling is left or right, and how many steps) follows from
  ``(i, n)`` alone, and the verifier derives it instead of trusting a side marker.
- The statement, a C2SP signed note (``reclaim.log.note``) signed by the log key::

      reclaim liabilities v1
      <log origin>
      snapshot <snapshot id>
      checkpoint <tree size> <base64 log root>
      <asset> <total> <leaf count> <base64 sum-tree root>     (one line per asset, sorted)

  The checkpoint line links the snapshot to the log checkpoint it was computed at.
- A proof (JSON, integers as decimal strings, hashes as base64): ``format``, ``statement``
  (the signed note), ``account``, ``asset``, ``balance``, ``salt``, ``index``, and ``path``:
  from the leaf up, one step per level, each the base64 of a fixed 48-byte record
  ``sibling hash (32) || u64be(sibling sum) || u64be(parent sum)`` (64 characters, no padding;
  the exact bytes a node hash takes, and a size that does not grow with the amounts). Which side
  the sibling is on follows from ``(index, leaf count)``. The parent sums are what a Maxwell
  customer is shown; here each is checked against its children, then the hashes are checked,
  and they commit to each child's sum.

Invariants:

- every leaf sum is in ``[1, 2**63 - 1]``, every node sum is in ``[0, 2**63 - 1]`` (the
  per-asset total is checked at build, so no node can exceed it); the verifier re-checks the
  bound at every step;
- a root hash commits to its total: for ``n > 1`` the root's hash covers both children's sums,
  for ``n == 1`` the leaf hash covers the balance; so ``(root, total)`` in a statement is
  either consistent or refused by every proof;
- a leaf names its account (and the salt is per account), so one leaf cannot serve as the
  proof of two creditors with equal balances;
- ``verify_proof(proof_for(s, a, x), log key, s's checkpoint)`` returns for every leaf;
- a build is deterministic: the same liabilities, secret, id, checkpoint and key give the same
  statement byte for byte (Ed25519 signatures are deterministic).

Known limits:

- A proof shows that *one* creditor's balance is counted in the signed total. It cannot show
  that the operator did not omit *other* creditors: each creditor must check their own proof
  (a creditor left out finds no proof, or one that does not verify). That is why everyone
  should check, and why the statement is signed and published: an omission is then provable.
- Proof of liabilities, not of solvency: reserves are a separate matter.
- The leaf count and the per-asset total are public, and a proof reveals its sibling sums
  (subtree totals), as in every Merkle sum tree; balances of others are not revealed.
- Bounds (``assets_max``, ``proof_size_max_bytes``, ... in ``formats``) belong in
  ``reclaim.core.limits``; they live there until that file takes them.

Errors:

- ``LiabilityInputError`` (a ``ValueError``): the operator's input cannot be committed to
  (negative or non-integer balance, duplicate liability, total over ``2**63 - 1``, bad ids);
- ``LiabilityNotFoundError`` (a ``LookupError``): no leaf for that account and asset;
- ``LiabilityProofError`` (a ``ValueError``) with a ``kind`` (``LiabilityProofErrorKind``, in
  the order the checks run) and a message naming what is wrong: a proof or statement refused.
"""
