"""The column-wise matcher (every enterprise at once, bitsets) against the pair-by-pair one
(``Compiled.status`` and ``Compiled.explain``, the reference): the same status, the same pairs
kept, the same pass counts and the same texts, on random trees over random enterprises."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_policy_matching import PATHS, as_facts, full_profiles, full_trees
from yimatong.services.matching import (
    MET,
    UNKNOWN,
    UNMET,
    Columns,
    Compiled,
    evaluate_columns,
    indices,
    kept_outcomes,
    prepare,
)

more_facts = st.fixed_dictionaries(
    {
        "registered_capital": st.one_of(st.none(), st.decimals("0", "50", places=2)),
        "district": st.one_of(st.none(), st.sampled_from(["500113", "500112"])),
    }
)


def enterprise_facts(profile: dict, extra: dict) -> dict:
    facts = {
        **as_facts(profile),
        **{k: profile[k] for k in ("industry_code", "chain_node", "is_above_scale")},
        **extra,
    }
    return prepare(facts)


def pair_by_pair(tree: Compiled, facts: dict) -> tuple[str, int, list[str], list[str]] | None:
    """What rematch stored before the columns: None for a pair it does not keep."""
    status, met, unmet, unknown = tree.status(facts)
    if status == UNMET and (unmet != 1 or unknown):
        return None
    missing, unknowns = tree.explain(facts) if status != MET else ([], [])
    return status, met, missing, unknowns


more_leaves = st.one_of(
    st.builds(
        lambda op, value: {"fact": "registered_capital", "op": op, "value": value},
        st.sampled_from([">=", ">", "<=", "<", "=="]),
        st.one_of(st.integers(0, 50), st.decimals("0", "50", places=2), st.sampled_from([2.5, 10.25])),
    ),
    st.builds(
        lambda values: {"fact": "district", "op": "in", "value": values},
        st.lists(st.sampled_from(["500113", "500112", "500108"]), min_size=1, max_size=2),
    ),
)
trees = st.one_of(
    full_trees,
    st.builds(lambda a, b: {"any": [a, {"not": b}]}, full_trees, more_leaves),
    st.builds(lambda a, b: {"all": [b, a]}, full_trees, more_leaves),
)


@settings(max_examples=300, deadline=None)
@given(trees, st.lists(st.tuples(full_profiles, more_facts), min_size=1, max_size=40))
def test_every_enterprise_gets_the_same_match_from_the_columns_as_pair_by_pair(tree, enterprises):
    facts = [enterprise_facts(profile, extra) for profile, extra in enterprises]
    compiled = Compiled(tree, PATHS)
    columns = Columns(facts)
    bulk = evaluate_columns(compiled, columns)
    for i, one in enumerate(facts):
        status = compiled.status(one)[0]
        assert {MET: bulk.met, UNMET: bulk.unmet, UNKNOWN: bulk.unknown}[status] >> i & 1, (i, status)
    expected = {i: pair_by_pair(compiled, one) for i, one in enumerate(facts)}
    got = {
        i: (status, met, missing, unknown)
        for i, status, met, missing, unknown in kept_outcomes(compiled, bulk, columns)
    }
    assert got == {i: row for i, row in expected.items() if row is not None}


def test_a_large_column_is_cut_at_every_threshold_exactly_as_one_enterprise_at_a_time():
    # Enough enterprises for several precomputed blocks, with ties on the thresholds.
    facts = [prepare({"revenue": Decimal(n % 997) / 4, "employees": n % 50}) for n in range(3000)]
    columns = Columns(facts)
    for op in (">=", ">", "<=", "<", "=="):
        for bar in (0, 1, 24.75, 100, 249, 250, 1000):
            tree = Compiled({"all": [{"fact": "revenue", "op": op, "value": bar}]})
            bulk = evaluate_columns(tree, columns)
            assert indices(bulk.met) == [i for i, one in enumerate(facts) if tree.status(one)[0] == MET], (
                op,
                bar,
            )


def test_indices_lists_the_set_bits_lowest_first():
    assert indices(0) == []
    assert indices(0b101001) == [0, 3, 5]
    assert indices(1 << 5000 | 2) == [1, 5000]
