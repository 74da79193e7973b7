"""Scheduled, file-triggered and publish-on-change refreshes. All are on by default when the Dagster
daemon runs (`make ui` starts it). Embedded, only one run writes the warehouse at a time: every asset
is in the `warehouse` pool, limited to 1 in dagster.yaml, so a second trigger queues. In lake mode runs
write at once (pipeline/storage/lake.py)."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from pipeline import settings
from pipeline.assets.core import KEY as TRADE_FLOWS_KEY
from pipeline.assets.ingest import ref_key
from pipeline.assets.lists import KEY as LISTS_KEY
from pipeline.assets.publish import KEY as PUBLISHED_KEY
from pipeline.importers import baci, eu_hs6
from pipeline.months import file_month, month_tags
from pipeline.resources import SeedsFolder
from pipeline.storage.warehouse import Warehouse
from schemas import REFERENCE_SEEDS, TRADE_FLOWS

REFRESH_JOB = "refresh"
refresh = dg.define_asset_job(
    REFRESH_JOB,
    selection=dg.AssetSelection.all(),
    description="Rebuild the tables of the run's months from the seeds, check them and publish the warehouse.",
)
REFRESH_ALL_JOB = "refresh_all"
refresh_all_job = dg.define_asset_job(
    REFRESH_ALL_JOB,
    selection=dg.AssetSelection.all(),
    description=(
        "Refresh everything, every month, in one run: rebuild every table from the seeds, check them and "
        "publish the warehouse. Launch it from its Launchpad; a run tag detour/months=YYYY-MM..YYYY-MM "
        "limits it to those months."
    ),
)
LOADED_HASHES_SQL = "SELECT source_file, arg_max(file_sha256, loaded_at) FROM quality.load_audit GROUP BY source_file"


@dg.schedule(
    name="refresh_all",
    job=refresh_all_job,
    cron_schedule=settings.refresh_cron(),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the whole graph, every month, in one run (cron: DETOUR_REFRESH_CRON, UTC).",
)
def refresh_all(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest()


IMPORTS = "imports/"  # downloaded trade files (pipeline/importers)
SEED_SUFFIXES = (".csv", ".xlsx", ".dta")  # Eurostat's spreadsheets and Stata tables are seed files too


def seed_key(relative: str) -> dg.AssetKey | None:
    """The asset a seed file feeds, by its path relative to the seeds folder."""
    if relative.startswith((f"{TRADE_FLOWS.path}/", IMPORTS)):  # a BACI country dictionary too: it maps the files beside it
        return TRADE_FLOWS_KEY
    if relative.casefold().startswith(f"{eu_hs6.FOLDER}/"):  # the EU HS6 list: measures, not parties
        return ref_key("sanctions_measures")
    if relative.casefold().startswith("lists/"):  # sanctions lists (lists/ofac, lists/opensanctions)
        return LISTS_KEY
    return next((ref_key(s.name) for s in REFERENCE_SEEDS if s.path == relative), None)


def fingerprints(folder: Path, known: dict) -> dict[str, list]:
    """{relative path: [size, mtime_ns, sha256]} of every seed file; a file whose size and mtime are
    unchanged keeps its known hash, so big folders are not re-read on every tick."""
    current = {}
    for path in sorted(p for p in folder.rglob("*") if p.suffix.casefold() in SEED_SUFFIXES):
        relative = str(path.relative_to(folder))
        if seed_key(relative) is None:
            continue
        stat = path.stat()
        previous = known.get(relative)
        if previous and previous[:2] == [stat.st_size, stat.st_mtime_ns]:
            current[relative] = previous
        else:
            current[relative] = [stat.st_size, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()]
    return current


def loaded_hashes(warehouse: Warehouse) -> dict[str, str]:
    """What the published warehouse last loaded from each file (empty before the first build)."""
    with warehouse.read_published() as con:
        return dict(con.execute(LOADED_HASHES_SQL).fetchall()) if con else {}


@dg.sensor(
    name="seeds_changed",
    job=refresh,
    minimum_interval_seconds=settings.sensor_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
    "Watches DETOUR_SEEDS_DIR. A new, changed or removed seed file (by content hash, not mtime) "
    "starts one refresh of the assets it feeds: a trade-flow file its month, a reference seed "
    "or an imported file (imports/comtrade, imports/baci, imports/comext) every month. All changes seen in one look start one run."
    ),
)
def seeds_changed(context: dg.SensorEvaluationContext, seeds: SeedsFolder, warehouse: Warehouse):
    known = json.loads(context.cursor) if context.cursor else None
    current = fingerprints(seeds.folder, known or {})
    hashes = {path: f[2] for path, f in current.items()}
    # Before the first look, what the warehouse loaded; a BACI country dictionary has no audit row of its own, so
    # the first look takes it as the last build read it, and later looks compare it with the one before.
    previous = ({path: f[2] for path, f in known.items()} if known is not None else
                {**{p: h for p, h in hashes.items() if baci.DICTIONARY.match(Path(p).name)}, **loaded_hashes(warehouse)})
    changed = sorted(p for p in hashes.keys() | previous.keys() if hashes.get(p) != previous.get(p))
    if not changed:
        return dg.SensorResult(skip_reason="no seed file changed", cursor=json.dumps(current))
    roots = {seed_key(p) for p in changed} - {None}
    months = sorted({file_month(Path(p).name) for p in changed if seed_key(p) == TRADE_FLOWS_KEY} - {None})
    # an imported file (an annual BACI year, a Comtrade download) is read by full refreshes only
    only_flows = roots == {TRADE_FLOWS_KEY} and months and not any(p.startswith(IMPORTS) for p in changed)
    tags = month_tags(months[0], months[-1]) if only_flows else {}
    selection = dg.AssetSelection.assets(*roots).downstream().resolve(context.repository_def.asset_graph)
    run_key = hashlib.sha256(json.dumps([(p, hashes.get(p)) for p in changed]).encode()).hexdigest()[:16]
    context.log.info(f"changed: {', '.join(changed)}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=run_key, asset_selection=sorted(selection), tags={**tags, "detour/changed": ",".join(changed)[:200]})
        ],
        cursor=json.dumps(current),
    )



# What you materialize is what you query: a run that changed a table (one mart, in the UI) but did not
# publish is followed by a publish run once that run's blocking checks have passed.
publish_on_change = dg.AutomationConditionSensorDefinition(
    "publish_on_change",
    target=dg.AssetSelection.assets(PUBLISHED_KEY),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description="Publishes the warehouse after any run that changed the build file without publishing it.",
)


@dg.run_failure_sensor(
    name="publish_withheld",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
    description="Records on published_warehouse why a failed run published nothing.",
)
def publish_withheld(context: dg.RunFailureSensorContext):
    run = context.dagster_run
    failed = [
        f"- `{event.step_key}`: {event.step_failure_data.error.message.strip() if event.step_failure_data.error else ''}"
        for event in context.get_step_failure_events()
    ]
    context.instance.report_runless_asset_event(
        dg.AssetObservation(
            asset_key=PUBLISHED_KEY,
            description=f"Not published: run {run.run_id[:8]} ({run.job_name}) failed; the warehouse still holds the last good build.",
            metadata={"run_id": run.run_id, "failed_steps": dg.MetadataValue.md("\n".join(failed) or "(none: the run failed outside a step)")},
        )
    )
