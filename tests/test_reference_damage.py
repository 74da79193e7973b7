"""Referential damage is loud: a reference row kept aside takes with it the rows whose meaning it
changes, names itself in their quarantine reason, and above DETOUR_MAX_QUARANTINED_VALUE_SHARE of
the value read stops the publish. Allocation uses shares as written, to the cent."""

from tests.conftest import materialize
from tests.seededit import read_rows, write_rows

RUB_CNY_2023 = "channel_CHN_RUS_any_2023-01_rub_cny"  # 0.8 of China→Russia channel value in 2023 (Putin, 4 Jul 2023)


def quarantined(build, seed: str) -> list[tuple]:
    return build.query(
        "SELECT row_number, column_name, rule, bad_value FROM quality.quarantine WHERE seed = ? ORDER BY row_number",
        [seed], published=False,
    )


def check_description(build, name: str) -> tuple[bool, str]:
    (evaluation,) = [
        e.event_specific_data for e in build.result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.event_specific_data.check_name == name
    ]
    return evaluation.passed, evaluation.description


def test_a_rule_kept_aside_takes_its_whole_key_with_it_and_stops_the_publish(seeds, tmp_path):
    path = seeds / "allocation_rules.csv"
    header, rows = read_rows(path)
    write_rows(path, header, [{**r, "target_id": "rubb"} if r["rule_id"] == RUB_CNY_2023 else r for r in rows])
    build = materialize(seeds, tmp_path / "detour.duckdb")

    kept = quarantined(build, "allocation_rules")
    key = [i + 2 for i, r in enumerate(rows) if r["rule_id"].startswith("channel_CHN_RUS_any_2023-01_")]
    bad_line = next(i + 2 for i, r in enumerate(rows) if r["rule_id"] == RUB_CNY_2023)
    # the bad row for its own reason; its key's other rule, whose share now sums to 0.2, because of it
    assert [k[0] for k in kept] == key
    assert all(
        rule == f"shares_of_key_sum_to_1 once row {bad_line} was kept aside"
        for line, _, rule, _ in kept if line != bad_line
    )
    # China→Russia flows of 2023 (CEPII BACI) lose their rules: more than 0.1% of value moves
    passed, description = check_description(build, "kept_aside_within_limit")
    assert not passed and "of flows whose allocation rules were kept aside" in description
    assert not build.succeeded("published_warehouse") and not build.warehouse.exists()


def test_a_flow_whose_channel_row_was_kept_aside_names_that_row(seeds, tmp_path):
    path = seeds / "payment_channels.csv"
    header, rows = read_rows(path)
    eur_line = next(i + 2 for i, r in enumerate(rows) if r["channel_id"] == "eur")
    write_rows(path, header, [*rows, next(r for r in rows if r["channel_id"] == "eur")])  # an exact duplicate line
    build = materialize(seeds, tmp_path / "detour.duckdb")

    reasons = build.query(
        """SELECT DISTINCT rule FROM quality.quarantine
           WHERE seed = 'trade_flows' AND column_name = 'channel_id' AND bad_value = 'eur'""",
        published=False,
    )
    assert reasons == [(
        f"references ref.payment_channels.channel_id: its row was kept aside, payment_channels.csv row {eur_line} (field_uniqueness)",
    )]
    passed, description = check_description(build, "kept_aside_within_limit")
    assert not passed and "USD of flows kept aside" in description
    assert not build.succeeded("published_warehouse")


def test_allocation_uses_shares_as_written_to_the_cent(shipped_build):
    # every routed row is its flow's value times its share, give or take the rounding cents of its flow
    (worst,) = shipped_build.query(
        """SELECT max(abs(r.value_usd - f.value_usd * r.share) - 0.01 * n.routes)
           FROM core.routed_flows r JOIN core.trade_flows f USING (flow_id)
           JOIN (SELECT flow_id, count(*) AS routes FROM core.routed_flows GROUP BY ALL) n USING (flow_id)"""
    )[0]
    assert worst <= 0
    (allocated,) = shipped_build.query("SELECT count(*) FROM core.routed_flows WHERE channel_basis = 'allocated'")[0]
    assert allocated > 1000
