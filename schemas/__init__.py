"""One pandera contract per seed. Each contract is the single source of a seed's column types,
checks and descriptions; the pipeline derives casts, DuckDB DDL, comments and Dagster metadata from it."""

from schemas import (
    allocation_rules,
    chpl,
    claims,
    corridor_legs,
    corridors,
    fx_rates,
    goods_categories,
    hs_categories,
    hs_concordance,
    hs_conversion,
    jurisdictions,
    neighbours,
    payment_channels,
    sanctions_measures,
    trade_flows,
)
from schemas.seed import Ref, Seed

REFERENCE_SEEDS: tuple[Seed, ...] = tuple(
    m.SEED
    for m in (
        goods_categories,
        hs_categories,
        hs_concordance,
        hs_conversion,
        chpl,
        fx_rates,
        payment_channels,
        corridors,
        corridor_legs,
        jurisdictions,
        neighbours,
        sanctions_measures,
        claims,
        allocation_rules,
    )
)
TRADE_FLOWS: Seed = trade_flows.SEED
SEEDS: dict[str, Seed] = {s.name: s for s in (*REFERENCE_SEEDS, TRADE_FLOWS)}

__all__ = ["REFERENCE_SEEDS", "SEEDS", "TRADE_FLOWS", "Ref", "Seed"]
