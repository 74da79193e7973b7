"""The same inputs give byte-identical marts and Parquet, recorded per mart in quality.publish_log."""

from pipeline.assets.marts import MARTS, PUBLISHED_MARTS
from tests.conftest import materialize

LOG = "SELECT mart, rows, checksum, inputs FROM quality.publish_log ORDER BY mart"


def test_the_same_seeds_give_the_same_marts_and_the_same_parquet_bytes(shipped_build, seeds, tmp_path):
    again = materialize(seeds, tmp_path / "detour.duckdb")
    assert again.result.success
    first = shipped_build.query(LOG)
    assert [mart for mart, *_ in first] == sorted(PUBLISHED_MARTS)  # every table of the marts schema
    assert all(rows > 0 for mart, rows, _, _ in first if mart in MARTS)
    assert again.query(LOG) == first
    for parquet in sorted((shipped_build.warehouse.parent / "parquet").glob("*.parquet")):
        assert (tmp_path / "parquet" / parquet.name).read_bytes() == parquet.read_bytes(), parquet.name


def test_a_changed_input_changes_the_inputs_checksum(shipped_build, seeds, tmp_path):
    claims = seeds / "claims.csv"
    claims.write_text(claims.read_text(encoding="utf-8").replace("2000000000", "2000000001", 1), encoding="utf-8")
    again = materialize(seeds, tmp_path / "detour.duckdb")
    before, after = dict((m, (c, i)) for m, _, c, i in shipped_build.query(LOG)), dict((m, (c, i)) for m, _, c, i in again.query(LOG))
    assert after["claims_check"][0] != before["claims_check"][0]  # the mart changed
    assert after["channel_mix"][0] == before["channel_mix"][0]  # this one did not
    assert {i for _, i in after.values()} != {i for _, i in before.values()}


def test_the_inputs_checksum_hashes_exactly_the_files_read(seeds, tmp_path):
    """A file deleted since an earlier run is not among the inputs: a warehouse refreshed after the deletion
    records the same inputs as a fresh build of the same seeds."""
    refreshed = tmp_path / "refreshed" / "detour.duckdb"
    assert materialize(seeds, refreshed).result.success
    (seeds / "trade_flows" / "2019-01.csv").unlink()
    assert materialize(seeds, refreshed).result.success
    fresh = materialize(seeds, tmp_path / "fresh" / "detour.duckdb")
    assert fresh.result.success
    latest = "SELECT DISTINCT inputs FROM quality.publish_log WHERE published_at = (SELECT max(published_at) FROM quality.publish_log)"
    assert fresh.query(latest) == materialize(seeds, refreshed).query(latest)
