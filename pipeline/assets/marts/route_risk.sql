-- marts.route_risk — Which routes most look like sanctions evasion? Every (category, corridor,
-- channel, transit country) route of canonical routed rows with a transparent score: each
-- component is a column in [0, 1] and the score is their weighted sum (weights in the comment of
-- risk_score); ranked. Coverage splits into what the covering authorities can reach (potential
-- breach) and what none of them can (circumvention), which weighs most. Only targeted restrictions
-- (goods, channel, party, vessel) count: a whole-country embargo covers every route to the country
-- alike, so it cannot tell one route from another.
-- Grain: one row per (data_status, category_id, corridor_id, channel_id, transit_iso3); DuckLake tables take no keys, so the grain is checked by its Great Expectations suite (unique).
CREATE OR REPLACE TABLE marts.route_risk (
    data_status               VARCHAR   NOT NULL,
    category_id               VARCHAR   NOT NULL,
    corridor_id               VARCHAR   NOT NULL,
    channel_id                VARCHAR   NOT NULL,
    transit_iso3              VARCHAR   NOT NULL,
    value_usd                 DECIMAL(18, 2) NOT NULL,
    flows                     BIGINT    NOT NULL,
    covered_share             DOUBLE    NOT NULL,
    in_reach_share            DOUBLE    NOT NULL,
    circumvention_share       DOUBLE    NOT NULL,
    best_chpl_tier            VARCHAR,
    chpl_score                DOUBLE    NOT NULL,
    traceability_score        DOUBLE    NOT NULL,
    hub_share                 DOUBLE    NOT NULL,
    avoids_restricting_share  DOUBLE    NOT NULL,
    risk_score                DOUBLE    NOT NULL,
    risk_rank                 BIGINT    NOT NULL,
    allocated_share           DOUBLE    NOT NULL,
    measure_ids               VARCHAR[] NOT NULL,
    fx_rate_types             VARCHAR[] NOT NULL,
    value_usd_alt_rate        DECIMAL(18, 2) NOT NULL
);
INSERT INTO marts.route_risk
WITH tiers(tier, score) AS (
    VALUES ('1', 1.0), ('2', 0.85), ('3.A', 0.7), ('3.B', 0.6), ('4.A', 0.5), ('4.B', 0.5)
), targeted AS (  -- routed rows a targeted restriction covers, and whether any such authority reaches them
    SELECT s.flow_id, s.route_seq, bool_or(s.in_reach) AS in_reach
    FROM core.route_sanctions s JOIN ref.sanctions_measures m USING (measure_id)
    WHERE m.target_type <> 'country' AND NOT s.is_obligation
    GROUP BY ALL
), rows AS (
    SELECT r.flow_id, r.data_status, r.category_id, r.corridor_id, r.channel_id, r.transit_iso3, r.value_usd, r.value_usd_alt_rate,
           r.fx_rate_type, r.measure_ids, r.avoids_restricting,
           x.flow_id IS NOT NULL AS covered, coalesce(x.in_reach, false) AS in_reach,
           x.flow_id IS NOT NULL AND NOT coalesce(x.in_reach, false) AS circumvention,
           r.channel_basis = 'allocated' OR r.corridor_basis = 'allocated' AS allocated,
           t.tier, coalesce(t.score, 0.0) AS chpl_score,
           CASE c.traceability WHEN 'low' THEN 1.0 WHEN 'medium' THEN 0.5 ELSE 0.0 END AS traceability_score,
           coalesce(jt.transshipment_hub, false) OR coalesce(ji.transshipment_hub, false) AS via_hub
    FROM core.routed_flows r
    LEFT JOIN targeted x USING (flow_id, route_seq)
    LEFT JOIN ref.chpl ch ON ch.hs6 = left(r.hs_code_2022, 6)
    LEFT JOIN tiers t ON t.tier = ch.tier
    LEFT JOIN ref.payment_channels c ON c.channel_id = r.channel_id
    LEFT JOIN ref.jurisdictions jt ON jt.country_iso3 = r.transit_iso3
    LEFT JOIN ref.jurisdictions ji ON ji.country_iso3 = r.importer_iso3
    WHERE r.canonical
), routes AS (
    SELECT data_status, coalesce(category_id, 'uncategorised') AS category_id,
           coalesce(corridor_id, 'unallocated') AS corridor_id,
           coalesce(channel_id, 'unallocated') AS channel_id,
           coalesce(transit_iso3, 'none') AS transit_iso3,
           sum(value_usd) AS value_usd,
           count(*) AS flows,  -- a flow's routed rows differ in channel or corridor: one per route
           coalesce(sum(value_usd) FILTER (WHERE covered)::DOUBLE / nullif(sum(value_usd), 0), 0) AS covered_share,
           coalesce(sum(value_usd) FILTER (WHERE in_reach)::DOUBLE / nullif(sum(value_usd), 0), 0) AS in_reach_share,
           coalesce(sum(value_usd) FILTER (WHERE circumvention)::DOUBLE / nullif(sum(value_usd), 0), 0) AS circumvention_share,
           min(tier) AS best_chpl_tier,
           coalesce(sum(value_usd * chpl_score)::DOUBLE / nullif(sum(value_usd), 0), 0) AS chpl_score,
           coalesce(sum(value_usd * traceability_score)::DOUBLE / nullif(sum(value_usd), 0), 0) AS traceability_score,
           coalesce(sum(value_usd) FILTER (WHERE via_hub)::DOUBLE / nullif(sum(value_usd), 0), 0) AS hub_share,
           coalesce(sum(value_usd) FILTER (WHERE avoids_restricting)::DOUBLE / nullif(sum(value_usd), 0), 0) AS avoids_restricting_share,
           coalesce(sum(value_usd) FILTER (WHERE allocated)::DOUBLE / nullif(sum(value_usd), 0), 0) AS allocated_share,
           -- DISTINCT: a plain list() holds every routed row's list, which grows with the rows (100 MB at 1M flows)
           list_sort(list_distinct(flatten(list(DISTINCT measure_ids)))) AS measure_ids,
           coalesce(list(DISTINCT fx_rate_type ORDER BY fx_rate_type) FILTER (WHERE fx_rate_type IS NOT NULL), []) AS fx_rate_types,
           sum(value_usd_alt_rate) AS value_usd_alt_rate
    FROM rows
    GROUP BY ALL
), scored AS (
    SELECT *, 0.35 * circumvention_share + 0.15 * in_reach_share + 0.20 * chpl_score + 0.20 * traceability_score
              + 0.10 * hub_share AS risk_score
    FROM routes
)
SELECT data_status, category_id, corridor_id, channel_id, transit_iso3, value_usd, flows,
       covered_share, in_reach_share, circumvention_share, best_chpl_tier, chpl_score, traceability_score, hub_share,
       avoids_restricting_share, risk_score,
       row_number() OVER (PARTITION BY data_status ORDER BY risk_score DESC, value_usd DESC, category_id, corridor_id, channel_id, transit_iso3),
       allocated_share, measure_ids, fx_rate_types, value_usd_alt_rate
FROM scored;

COMMENT ON TABLE marts.route_risk IS 'Which routes most look like sanctions evasion? Every (category, corridor, channel, transit) route with a transparent, ranked score built on coverage, reach and circumvention';
COMMENT ON COLUMN marts.route_risk.data_status IS 'illustrative (the shipped sample) or real; ranks run within each; never add the two';
COMMENT ON COLUMN marts.route_risk.category_id IS 'Goods category';
COMMENT ON COLUMN marts.route_risk.corridor_id IS 'Corridor, or unallocated';
COMMENT ON COLUMN marts.route_risk.channel_id IS 'Payment channel, or unallocated';
COMMENT ON COLUMN marts.route_risk.transit_iso3 IS 'Observed transit country, or none';
COMMENT ON COLUMN marts.route_risk.value_usd IS 'Value moved along the route, USD (canonical reports only)';
COMMENT ON COLUMN marts.route_risk.flows IS 'Distinct flows on the route';
COMMENT ON COLUMN marts.route_risk.covered_share IS 'Share of value a targeted restriction (goods, channel, party or vessel; not a whole-country embargo) in force on its date covers (= in_reach_share + circumvention_share)';
COMMENT ON COLUMN marts.route_risk.in_reach_share IS 'Component: share of value covered by a targeted restriction and within reach of its authority (potential breach)';
COMMENT ON COLUMN marts.route_risk.circumvention_share IS 'Component: share of value covered by targeted restrictions and out of reach of all their authorities (circumvention)';
COMMENT ON COLUMN marts.route_risk.best_chpl_tier IS 'Highest-concern CHPL tier among the route''s HS codes (1 highest)';
COMMENT ON COLUMN marts.route_risk.chpl_score IS 'Component: value-weighted CHPL tier score (tier 1 = 1.0, 2 = 0.85, 3.A = 0.7, 3.B = 0.6, 4.A/4.B = 0.5, not listed = 0)';
COMMENT ON COLUMN marts.route_risk.traceability_score IS 'Component: value-weighted channel opacity (low traceability = 1, medium = 0.5, high = 0)';
COMMENT ON COLUMN marts.route_risk.hub_share IS 'Component: share of value passing through or going to a FinCEN/BIS transshipment hub';
COMMENT ON COLUMN marts.route_risk.avoids_restricting_share IS 'Share of value on corridors crossing no jurisdiction of the authorities restricting it (shown, not scored: reach already counts transit)';
COMMENT ON COLUMN marts.route_risk.risk_score IS 'Score = 0.35 circumvention_share + 0.15 in_reach_share + 0.20 chpl_score + 0.20 traceability_score + 0.10 hub_share';
COMMENT ON COLUMN marts.route_risk.risk_rank IS 'Rank by risk_score (1 = riskiest), ties broken by value';
COMMENT ON COLUMN marts.route_risk.allocated_share IS 'Share of value whose channel or corridor was allocated by rule rather than observed';
COMMENT ON COLUMN marts.route_risk.measure_ids IS 'Measures covering value on the route (ref.sanctions_measures), whole-country embargoes and obligations included';
COMMENT ON COLUMN marts.route_risk.fx_rate_types IS 'FX rate types behind value_usd (market, official, market_approximate or official_approximate where ref.fx_rates flags the rate approximate, usd for a value in US dollars with no FX row)';
COMMENT ON COLUMN marts.route_risk.value_usd_alt_rate IS 'value_usd with every flow whose currency had a second rate type that month converted at it instead';
