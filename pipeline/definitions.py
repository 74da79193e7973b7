"""Dagster Definitions: the assets, their checks, the refresh job and resources."""

import dagster as dg

from pipeline import settings
from pipeline.assets.core import trade_flows
from pipeline.assets.enrich import enrich_assets
from pipeline.assets.marts import mart_assets
from pipeline.assets.ingest import reference_assets
from pipeline.assets.publish import published_warehouse
from pipeline.assets.quality import great_expectations_suites
from pipeline.resources import SeedsFolder
from pipeline.warehouse import Warehouse

REFRESH_JOB = "refresh"

refresh = dg.define_asset_job(
    REFRESH_JOB,
    selection=dg.AssetSelection.all(),
    description="Rebuild every table from the seeds and publish the warehouse.",
)

defs = dg.Definitions(
    assets=[*reference_assets, trade_flows, *enrich_assets, *mart_assets, published_warehouse],
    asset_checks=[great_expectations_suites],
    jobs=[refresh],
    resources={
        "warehouse": Warehouse(path=str(settings.warehouse_path())),
        "seeds": SeedsFolder(path=str(settings.seeds_dir())),
    },
    # One process writes the build file; steps run one after another (DuckDB has a single writer).
    executor=dg.in_process_executor,
)
