"""bench/city.py measures what the issue lists; this keeps its in-process part from rotting: on a
tiny city every page and call answers the status the benchmark expects, and queries are counted."""

import pytest

from bench import city, city_data


def test_a_query_shape_run_again_with_other_values_is_per_row_and_with_the_same_is_repeated():
    executed = [
        ('SELECT "a" FROM "t" WHERE "id" = %s', "(1,)"),
        ('SELECT "a" FROM "t" WHERE "id" = %s', "(2,)"),
        ('SELECT "a" FROM "t" WHERE "id" = %s', "(3,)"),
        ('SELECT "b" FROM "u" WHERE "x" IN (%s, %s)', "(1, 2)"),
        ('SELECT "b" FROM "u" WHERE "x" IN (%s, %s)', "(1, 2)"),
        ('SELECT "c" FROM "v"', "()"),
    ]
    per_row, repeated = city.classify(executed)
    assert per_row == {'SELECT "a" FROM "t" WHERE "id" = ?': 3}
    assert repeated == {'SELECT "b" FROM "u" WHERE "x" IN (…)': 2}


def test_the_shape_of_a_query_has_its_values_and_in_lists_taken_out():
    sql = "SELECT * FROM t WHERE code = 'YMT-1' AND id IN (4, 5, 6) AND n > 10.5 LIMIT 21"
    assert city.shape(sql) == "SELECT * FROM t WHERE code = ? AND id IN (…) AND n > ? LIMIT ?"


@pytest.mark.django_db
def test_every_city_page_and_call_answers_as_the_benchmark_expects_with_its_queries_counted():
    stats = city_data.generate(city_data.TINY, verbose=False)
    assert stats.counts["projects"] == city_data.TINY.projects
    assert stats.counts["leads"] == city_data.TINY.leads
    ctx, creds = city.prepare(city_data.TINY)
    rows = city.items(ctx)
    assert {"board (leader)", "cockpit after a new event (leader)", "API create project (promoter)"} <= {
        r.name for r in rows
    }
    counts = city.count_queries(rows, creds, city.new_event(ctx), verbose=False, warmup=False)
    assert {name: c.error for name, c in counts.items() if c.error} == {}
    assert {r.name: counts[r.name].status for r in rows} == {r.name: r.expect for r in rows}
    assert all(counts[r.name].total > 0 for r in rows), [r.name for r in rows if not counts[r.name].total]
