"""The fast pro-rata split equals the straightforward one, on random inputs (issue 11).

``money.allocate_pro_rata`` chooses the units left after the floors by a cut-off remainder
(``benchmarks/bench_pass_through.py``: a pass-through over 1,000,000 holders). The reference
here is the rule as written: sort every key by (remainder descending, key ascending) and give
one unit to each of the first ``leftover``. Both must give the same parts, in the same (key)
order, for any holdings — ties above all, so the weights are drawn from few values.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reclaim.core.money import allocate_pro_rata
from reclaim.core.notes.machine import allocate_pass_through


def reference(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    weight_sum = sum(weights.values())
    if weight_sum == 0:
        assert total == 0
        return {key: 0 for key in sorted(weights)}
    parts, ranked = {}, []
    for key in sorted(weights):
        share, remainder = divmod(total * weights[key], weight_sum)
        parts[key] = share
        ranked.append((-remainder, key))
    ranked.sort()
    for _, key in ranked[: total - sum(parts.values())]:
        parts[key] += 1
    return parts


keys = st.text(alphabet="abcdez-0123", min_size=1, max_size=6)
tied_weights = st.dictionaries(keys, st.sampled_from([0, 1, 2, 3, 7, 10**6]), max_size=60)
any_weights = st.dictionaries(keys, st.integers(0, 2**62), max_size=60)
totals = st.integers(0, 2**40)


@settings(max_examples=400)
@given(totals, st.one_of(tied_weights, any_weights))
def test_the_split_equals_the_reference_and_keeps_its_key_order(
    total: int, weights: dict[str, int]
) -> None:
    if sum(weights.values()) == 0 and total:
        return  # refused (no weight to split over): covered below
    parts = allocate_pro_rata(total, weights)
    expected = reference(total, weights)
    assert parts == expected
    assert list(parts) == list(expected) == sorted(weights)
    assert sum(parts.values()) == total


@settings(max_examples=200)
@given(totals, st.dictionaries(keys, st.integers(0, 10**9), max_size=60))
def test_a_pass_through_is_the_reference_split_over_holders_of_notes(
    amount: int, holdings: dict[str, int]
) -> None:
    holders = {account: notes for account, notes in holdings.items() if notes}
    if not holders and amount:
        return
    assert allocate_pass_through(amount, holdings) == reference(amount, holders)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"a": 1, 5: 1}, "key 5 is not text"),  # type: ignore[dict-item]
        ({"a": 1, "b": -1}, "weight of 'b' is not a non-negative BIGINT: -1"),
        ({"a": True}, "weight of 'a' is not a non-negative BIGINT: True"),
        ({"a": 2**63}, f"weight of 'a' is not a non-negative BIGINT: {2**63}"),
        ({"a": 1.0}, "weight of 'a' is not a non-negative BIGINT: 1.0"),
        ({"b": -1, 7: 1}, "weight of 'b' is not a non-negative BIGINT: -1"),  # the first one
    ],
)
def test_bad_weights_are_refused_naming_the_first_bad_one(
    weights: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        allocate_pro_rata(10, weights)
