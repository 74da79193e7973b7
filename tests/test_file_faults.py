"""A file that cannot be loaded fails its step with one message naming the file and the problem; the
other seeds still load, and the published warehouse is not replaced."""

import shutil
import subprocess
import sys

import dagster as dg
import duckdb

from tests.conftest import SHIPPED_SEEDS, materialize
from tests.seededit import read_rows, write_rows

# the shipped flows: 19,500 of the sample, 43,494 of CEPII BACI and 36,667 of the Eurostat spreadsheet
SHIPPED_FLOWS = 19_500 + 43_494 + 36_667


def materialized(build) -> set[str]:
    return {"/".join(e.asset_key.path) for e in build.result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}


def test_file_level_faults_fail_only_their_seed_with_a_clear_message(seeds, tmp_path):
    header, rows = read_rows(seeds / "chpl.csv")
    write_rows(seeds / "chpl.csv", [h for h in header if h != "tier"], [{k: v for k, v in r.items() if k != "tier"} for r in rows])
    (seeds / "claims.csv").write_bytes((seeds / "claims.csv").read_text(encoding="utf-8").encode("utf-8") + "Tür,é\n".encode("latin-1"))
    (seeds / "jurisdictions.csv").write_text("")
    text = (seeds / "sanctions_measures.csv").read_text(encoding="utf-8").splitlines()
    (seeds / "sanctions_measures.csv").write_text("\n".join([text[0] + ",source", *text[1:]]) + "\n", encoding="utf-8")
    header, rows = read_rows(seeds / "allocation_rules.csv")
    write_rows(seeds / "allocation_rules.csv", [*header, "notes"], rows)

    build = materialize(seeds, tmp_path / "w" / "detour.duckdb")

    assert not build.result.success
    # one step loads every reference table: it tries them all and names each refused file, one per line
    lines = build.failure("reference_tables").split("\n")
    for file, problem in (("chpl.csv", "missing column(s): tier"), ("claims.csv", "not valid UTF-8 (line 18"),
                          ("jurisdictions.csv", "file is empty"),
                          ("sanctions_measures.csv", "duplicate column(s) in header: source"),
                          ("allocation_rules.csv", "unknown column(s): notes")):
        assert any(line.startswith(f"{seeds / file}: ") and problem in line for line in lines), (file, lines)
    assert "Traceback" not in "\n".join(lines)
    # the seeds whose files were fine loaded, each with its own materialization; nothing was published
    assert {"ref/goods_categories", "ref/hs_categories", "ref/fx_rates", "ref/payment_channels", "ref/corridors"} <= materialized(build)
    assert not build.succeeded("published_warehouse")
    assert not build.warehouse.exists()
    assert build.query("SELECT count(*) FROM ref.goods_categories", published=False) == [(19,)]

    # with the reference seeds sound again, a trade-flow file's fault is named by its own step
    for file in ("chpl.csv", "claims.csv", "jurisdictions.csv", "sanctions_measures.csv", "allocation_rules.csv"):
        shutil.copy(SHIPPED_SEEDS / file, seeds / file)
    (seeds / "trade_flows" / "2019-01.csv").write_text(
        (seeds / "trade_flows" / "2019-01.csv").read_text().splitlines()[0] + "\n"
    )
    build = materialize(seeds, tmp_path / "w" / "detour.duckdb")
    message = build.failure("core__trade_flows")
    assert str(seeds / "trade_flows" / "2019-01.csv") in message and "has a header but no data rows" in message
    assert not build.warehouse.exists()


def test_a_missing_seed_file_is_named(seeds, tmp_path):
    (seeds / "claims.csv").unlink()
    build = materialize(seeds, tmp_path / "detour.duckdb")
    assert build.failure("reference_tables") == f"{seeds / 'claims.csv'}: file not found"
    assert "ref/claims" not in materialized(build) and "ref/chpl" in materialized(build)
    assert not build.warehouse.exists()


def test_a_corrupt_build_file_is_rebuilt_from_the_published_warehouse(seeds, tmp_path):
    warehouse = tmp_path / "detour.duckdb"
    assert materialize(seeds, warehouse).result.success
    build = warehouse.with_name("detour.build.duckdb")
    with open(build, "r+b") as f:  # what a crash or a full disk can leave
        f.truncate(1_000_000)
    with dg.instance_for_test() as instance:
        rebuilt = materialize(seeds, warehouse, instance=instance)
        logged = [r.user_message for r in instance.all_logs(rebuilt.result.run_id)]
    assert rebuilt.result.success
    warnings = [m for m in logged if "does not open" in m]
    assert warnings and f"{build} does not open" in warnings[0] and f"rebuilt from {warehouse}" in warnings[0]
    assert rebuilt.query("SELECT count(*) FROM core.trade_flows")[0][0] == SHIPPED_FLOWS


def test_a_second_writer_gets_one_line_naming_the_holder(seeds, tmp_path):
    warehouse = tmp_path / "detour.duckdb"
    build = warehouse.with_name("detour.build.duckdb")
    duckdb.connect(str(build)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; con = duckdb.connect({str(build)!r}); print('held', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        second = materialize(seeds, warehouse)
    finally:
        holder.kill()
    assert not second.result.success
    (message, *_) = [
        e.step_failure_data.user_failure_data.description
        for e in second.result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    assert message.startswith(f"another refresh (PID {holder.pid}) holds the build file {build} since ")
    assert "this run changed nothing" in message and "Traceback" not in message


def test_a_seed_file_with_an_upper_case_extension_is_read(seeds, tmp_path):
    (seeds / "trade_flows" / "2023-05.csv").rename(seeds / "trade_flows" / "2023-05.CSV")
    build = materialize(seeds, tmp_path / "detour.duckdb")
    assert build.query("SELECT count(*) FROM quality.load_audit WHERE source_file = 'trade_flows/2023-05.CSV'")[0][0] == 1
    assert build.query("SELECT count(*) FROM core.trade_flows")[0][0] == SHIPPED_FLOWS
