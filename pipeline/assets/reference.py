"""Every reference table in one step: each seed still read, checked against its contract, written, kept aside
and audited on its own (ingest.load_reference; measures.load_measures for sanctions_measures and the EU HS6
list), with its own asset, materialization and checks. One step, not fourteen: each step cost a connection,
its events and Dagster's bookkeeping, about 0.2 s apiece, more than most of these tables take to load.
A subset (the sensor's, or one table materialized in the UI) loads only the tables selected. A seed whose file
is refused does not stop the others: the step fails once all were tried, naming every refused file."""

from graphlib import TopologicalSorter

import dagster as dg

from pipeline.assets.ingest import OWNERS, check_specs, load_reference, ref_key, ref_table, seed_file_key
from pipeline.assets.measures import LIST_KEY, MEASURES_DESCRIPTION, load_measures
from pipeline.resources import SeedsFolder
from pipeline.storage.warehouse import POOL, Warehouse
from schemas import REFERENCE_SEEDS
from schemas.seed import Seed

MEASURES = "sanctions_measures"
# upstream first: a seed's references are checked against the tables loaded before it
IN_ORDER = [seed for name in TopologicalSorter({s.name: s.upstream for s in REFERENCE_SEEDS}).static_order()
            for seed in REFERENCE_SEEDS if seed.name == name]


def reference_spec(seed: Seed) -> dg.AssetSpec:
    about = (MEASURES_DESCRIPTION if seed.name == MEASURES
             else f"Seed `{seed.path}`, contract `schemas/{seed.name}.py`, table `{ref_table(seed)}`.")
    return dg.AssetSpec(
        ref_key(seed.name),
        description=f"{seed.description}\n\n{about}",
        group_name="reference",
        kinds={"polars", "pandera", "duckdb"},
        owners=OWNERS,
        deps=[seed_file_key(seed), *([LIST_KEY] if seed.name == MEASURES else []), *(ref_key(u) for u in seed.upstream)],
    )


@dg.multi_asset(
    name="reference_tables",
    specs=[reference_spec(seed) for seed in IN_ORDER],
    check_specs=[spec for seed in IN_ORDER for spec in check_specs(ref_key(seed.name))],
    can_subset=True,
    pool=POOL,
)
def reference_tables(context: dg.AssetExecutionContext, warehouse: Warehouse, seeds: SeedsFolder):
    selected, checks = context.selected_asset_keys, context.selected_asset_check_keys
    refused: dict[str, str] = {}  # seed -> why it did not load
    with warehouse.connect() as con:
        for seed in IN_ORDER:
            if ref_key(seed.name) not in selected:
                continue
            if missing := [u for u in seed.upstream if u in refused]:
                refused[seed.name] = f"ref.{seed.name}: not loaded, as ref.{', ref.'.join(missing)} it references did not load"
                continue
            load = load_measures if seed.name == MEASURES else load_reference
            try:
                results = list(load(context, con, seeds.folder, seed))
            except dg.Failure as failure:  # a refused file: the other seeds still load, so one run names every such file
                refused[seed.name] = failure.description
                continue
            yield from (r for r in results
                        if isinstance(r, dg.MaterializeResult) or dg.AssetCheckKey(r.asset_key, r.check_name) in checks)
    if refused:
        raise dg.Failure(description="\n".join(refused.values()), allow_retries=False)


reference_assets = [reference_tables]
