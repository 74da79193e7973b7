"""Dagster Definitions: the assets, their checks, the refresh job, its schedule and sensor, resources."""

import dagster as dg

from pipeline import settings
from pipeline.automation import publish_on_change, publish_withheld, refresh, refresh_all, refresh_all_job, seeds_changed
from pipeline.assets.core import trade_flows
from pipeline.assets.enrich import enrich_assets
from pipeline.assets.marts import mart_assets
from pipeline.assets.ingest import seed_file_specs
from pipeline.assets.reference import reference_assets
from pipeline.assets.lists import LIST_FILE_SPECS, list_assets
from pipeline.assets.measures import LIST_FILE_SPEC
from pipeline.assets.publish import published_warehouse
from pipeline.assets.quality import great_expectations_suites
from pipeline.assets.quality_tables import quality_tables
from pipeline.progress import progress_logger
from pipeline.resources import SeedsFolder
from pipeline.storage.warehouse import Warehouse

defs = dg.Definitions(
    assets=[
        *seed_file_specs,
        *LIST_FILE_SPECS,
        LIST_FILE_SPEC,
        *reference_assets,
        *list_assets,
        trade_flows,
        *enrich_assets,
        *mart_assets,
        quality_tables,
        published_warehouse,
    ],
    asset_checks=[great_expectations_suites],
    jobs=[refresh, refresh_all_job],
    schedules=[refresh_all],
    sensors=[seeds_changed, publish_on_change, publish_withheld],
    resources={
        "warehouse": Warehouse(
            path=str(settings.warehouse_path()),
            # by name, so that its password stays out of Dagster's UI and stored snapshots
            lake=dg.EnvVar("DETOUR_LAKE") if settings.lake_url() else "",
            lake_data=str(settings.lake_data()) if settings.lake_url() else "",
        ),
        "seeds": SeedsFolder(path=str(settings.seeds_dir())),
    },
    loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    # One process writes the build file; steps run one after another (DuckDB has a single writer).
    executor=dg.in_process_executor,
)
