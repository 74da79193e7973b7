"""The benchmark, small: detour-synth writes valid monthly files and detour-bench runs end to end
(no timing assertions: speed is measured by `make bench`, not by tests)."""

import json

import polars as pl

from pipeline.tools import bench
from pipeline.tools.synth import write
from tests.conftest import SHIPPED_SEEDS


def test_synth_writes_deterministic_monthly_files_with_a_few_bad_rows(tmp_path):
    rows = write(20_000, tmp_path / "a", SHIPPED_SEEDS / "fx_rates.csv")
    write(20_000, tmp_path / "b", SHIPPED_SEEDS / "fx_rates.csv")
    files = sorted((tmp_path / "a").glob("*.csv"))
    assert rows == 20_000 and len(files) == 120  # ten years of months
    assert all((tmp_path / "b" / f.name).read_bytes() == f.read_bytes() for f in files)
    flows = pl.read_csv(tmp_path / "a" / "*.csv", infer_schema=False)
    assert flows.height == rows
    assert flows["exporter_iso3"].n_unique() > 150
    assert 0 < flows.filter(pl.col("hs_code") == "85AB31").height < 40


def test_the_benchmark_runs_end_to_end_on_50k_rows(tmp_path):
    results = bench.run(50_000, tmp_path / "50000")
    assert [r["step"][:3] for r in results] == ["(a)", "(b)", "(c)", "(d)"]
    # the ratios are against the mean of the two floors, which bracket the refreshes
    assert abs((results[0]["ratio_to_floor"] + results[3]["ratio_to_floor"]) / 2 - 1) < 1e-9
    assert all(r["seconds"] > 0 and r["peak_mb"] > 0 for r in results)
    assert json.loads((tmp_path / "50000" / "results.json").read_text()) == results
    assert "× floor" in bench.table(results)
