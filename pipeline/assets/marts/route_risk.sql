-- marts.route_risk — Which routes most look like sanctions evasion? Every (year, frequency, category,
-- corridor, channel, transit country) route of canonical routed rows with a transparent score: each
-- component is a column in [0, 1] and the score is their weighted sum (weights in the comment of
-- risk_score), ranked within each year. Covered value splits into what the covering authorities can
-- reach (potential breach), what the data say none of them can (circumvention, which weighs most) and
-- what rests on an allocated or unknown channel or corridor (undetermined, which scores nothing: an
-- assumption never makes a finding). Size counts through size_score, the route's value on a log
-- scale against the year's largest route, so a tiny route with one odd flow does not top the list.
-- A route whose channel or corridor is allocated or unknown rests on allocation: marked, and ranked
-- after every observed route of its year. Only targeted restrictions (goods, channel, party, vessel)
-- count: a whole-country embargo covers every route to the country alike, so it cannot tell one route
-- from another. Values covered part of a month (year) count for the days the measures are in force.
-- Grain: one row per (data_status, year, frequency, category_id, corridor_id, channel_id, transit_iso3);
-- DuckLake tables take no keys, so the grain is checked by its Great Expectations suite (unique).
CREATE TABLE IF NOT EXISTS marts.route_risk (
    data_status               VARCHAR   NOT NULL,
    year                      INTEGER   NOT NULL,
    frequency                 VARCHAR   NOT NULL,
    category_id               VARCHAR   NOT NULL,
    corridor_id               VARCHAR   NOT NULL,
    channel_id                VARCHAR   NOT NULL,
    transit_iso3              VARCHAR   NOT NULL,
    value_usd                 DECIMAL(18, 2) NOT NULL,
    flows                     BIGINT    NOT NULL,
    covered_value_usd         DECIMAL(18, 2) NOT NULL,
    in_reach_value_usd        DECIMAL(18, 2) NOT NULL,
    circumvention_value_usd   DECIMAL(18, 2) NOT NULL,
    undetermined_value_usd    DECIMAL(18, 2) NOT NULL,
    covered_share             DOUBLE    NOT NULL,
    in_reach_share            DOUBLE    NOT NULL,
    circumvention_share       DOUBLE    NOT NULL,
    undetermined_share        DOUBLE    NOT NULL,
    best_chpl_tier            VARCHAR,
    chpl_score                DOUBLE    NOT NULL,
    traceability_score        DOUBLE    NOT NULL,
    hub_share                 DOUBLE    NOT NULL,
    size_score                DOUBLE    NOT NULL,
    avoids_restricting_share  DOUBLE    NOT NULL,
    risk_score                DOUBLE    NOT NULL,
    rests_on_allocation       BOOLEAN   NOT NULL,
    risk_rank                 BIGINT    NOT NULL,
    allocated_share           DOUBLE    NOT NULL,
    measure_ids               VARCHAR[] NOT NULL,
    fx_rate_types             VARCHAR[] NOT NULL,
    value_usd_alt_rate        DECIMAL(18, 2) NOT NULL
);
-- Scores and ranks are within a year: a run rewrites the whole years its months fall in (window_start and
-- window_end are their bounds), and leaves the other years as they are.
DELETE FROM marts.route_risk WHERE year >= year($window_start) AND year < year($window_end);
INSERT INTO marts.route_risk
WITH tiers(tier, score) AS (
    VALUES ('1', 1.0), ('2', 0.85), ('3.A', 0.7), ('3.B', 0.6), ('4.A', 0.5), ('4.B', 0.5)
), targeted AS (  -- routed rows a targeted restriction covers: whether any such authority reaches them, and for how many days
    SELECT s.flow_id, s.route_seq,
           CASE WHEN bool_or(s.in_reach) THEN true WHEN bool_and(s.in_reach IS FALSE) THEN false END AS in_reach,
           max(s.in_force_share) AS in_force_share
    FROM core.route_sanctions s JOIN ref.sanctions_measures m USING (measure_id)
    WHERE m.target_type <> 'country' AND NOT s.is_obligation AND s.period >= $window_start AND s.period < $window_end
    GROUP BY ALL
), rows AS (
    SELECT r.flow_id, r.data_status, year(r.period) AS year, r.frequency, r.category_id, r.corridor_id, r.channel_id,
           r.transit_iso3, r.value_usd, r.value_usd_alt_rate, r.fx_rate_type, r.measure_ids, r.avoids_restricting,
           coalesce(CAST(r.value_usd * x.in_force_share AS DECIMAL(18, 2)), 0) AS covered_usd, x.in_reach,
           r.channel_basis = 'allocated' OR r.corridor_basis = 'allocated' AS allocated,
           r.channel_basis <> 'observed' OR r.corridor_basis <> 'observed' AS unobserved,
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
    WHERE r.canonical AND r.period >= $window_start AND r.period < $window_end
), routes AS (
    SELECT data_status, year, frequency, coalesce(category_id, 'uncategorised') AS category_id, corridor_id, channel_id,
           coalesce(transit_iso3, 'none') AS transit_iso3,
           sum(value_usd) AS value_usd,
           count(*) AS flows,  -- a flow's routed rows differ in channel or corridor: one per route
           sum(covered_usd) AS covered_value_usd,
           coalesce(sum(covered_usd) FILTER (WHERE in_reach), 0) AS in_reach_value_usd,
           coalesce(sum(covered_usd) FILTER (WHERE NOT in_reach), 0) AS circumvention_value_usd,
           coalesce(sum(covered_usd) FILTER (WHERE covered_usd > 0 AND in_reach IS NULL), 0) AS undetermined_value_usd,
           min(tier) AS best_chpl_tier,
           coalesce(sum(value_usd * chpl_score)::DOUBLE / nullif(sum(value_usd), 0), 0) AS chpl_score,
           coalesce(sum(value_usd * traceability_score)::DOUBLE / nullif(sum(value_usd), 0), 0) AS traceability_score,
           coalesce(sum(value_usd) FILTER (WHERE via_hub)::DOUBLE / nullif(sum(value_usd), 0), 0) AS hub_share,
           coalesce(sum(value_usd) FILTER (WHERE avoids_restricting)::DOUBLE / nullif(sum(value_usd), 0), 0) AS avoids_restricting_share,
           coalesce(sum(value_usd) FILTER (WHERE allocated)::DOUBLE / nullif(sum(value_usd), 0), 0) AS allocated_share,
           bool_or(unobserved) AS rests_on_allocation,
           -- DISTINCT: a plain list() holds every routed row's list, which grows with the rows (100 MB at 1M flows)
           list_sort(list_distinct(flatten(list(DISTINCT measure_ids)))) AS measure_ids,
           coalesce(list(DISTINCT fx_rate_type ORDER BY fx_rate_type) FILTER (WHERE fx_rate_type IS NOT NULL), []) AS fx_rate_types,
           sum(value_usd_alt_rate) AS value_usd_alt_rate
    FROM rows
    GROUP BY ALL
), shared AS (
    SELECT *,
           coalesce(covered_value_usd::DOUBLE / nullif(value_usd, 0), 0) AS covered_share,
           coalesce(in_reach_value_usd::DOUBLE / nullif(value_usd, 0), 0) AS in_reach_share,
           coalesce(circumvention_value_usd::DOUBLE / nullif(value_usd, 0), 0) AS circumvention_share,
           coalesce(undetermined_value_usd::DOUBLE / nullif(value_usd, 0), 0) AS undetermined_share,
           coalesce(ln(1 + value_usd::DOUBLE)
                    / nullif(max(ln(1 + value_usd::DOUBLE)) OVER (PARTITION BY data_status, year, frequency), 0), 0) AS size_score
    FROM routes
), scored AS (
    SELECT *, 0.30 * circumvention_share + 0.10 * in_reach_share + 0.20 * chpl_score + 0.15 * traceability_score
              + 0.10 * hub_share + 0.15 * size_score AS risk_score
    FROM shared
)
SELECT data_status, year, frequency, category_id, corridor_id, channel_id, transit_iso3, value_usd, flows,
       covered_value_usd, in_reach_value_usd, circumvention_value_usd, undetermined_value_usd,
       covered_share, in_reach_share, circumvention_share, undetermined_share, best_chpl_tier, chpl_score,
       traceability_score, hub_share, size_score, avoids_restricting_share, risk_score, rests_on_allocation,
       row_number() OVER (PARTITION BY data_status, year, frequency
                          ORDER BY rests_on_allocation, risk_score DESC, value_usd DESC, category_id, corridor_id, channel_id, transit_iso3),
       allocated_share, measure_ids, fx_rate_types, value_usd_alt_rate
FROM scored;

COMMENT ON TABLE marts.route_risk IS 'Which routes most look like sanctions evasion? Every (year, frequency, category, corridor, channel, transit) route with a transparent score built on reach, circumvention, goods, channel, hubs and size, ranked within its year: routes that rest on an allocated or unknown channel or corridor come after the observed ones. Values add up over routes of one year and frequency; never add the two data_status values or an annual and a monthly source of one trade.';
COMMENT ON COLUMN marts.route_risk.data_status IS '`illustrative` (the shipped sample) or `real`; ranks run within each; never add the two.';
COMMENT ON COLUMN marts.route_risk.year IS 'Year of the flows.';
COMMENT ON COLUMN marts.route_risk.frequency IS '`monthly` or `annual`: the flows'' frequency (an annual and a monthly source may report one trade).';
COMMENT ON COLUMN marts.route_risk.category_id IS 'Goods category.';
COMMENT ON COLUMN marts.route_risk.corridor_id IS 'Corridor, or unknown.';
COMMENT ON COLUMN marts.route_risk.channel_id IS 'Payment channel, or unknown.';
COMMENT ON COLUMN marts.route_risk.transit_iso3 IS 'Observed transit country, or none.';
COMMENT ON COLUMN marts.route_risk.value_usd IS 'Value moved along the route that year, USD (canonical reports only).';
COMMENT ON COLUMN marts.route_risk.flows IS 'Distinct flows on the route.';
COMMENT ON COLUMN marts.route_risk.covered_value_usd IS 'Value a targeted restriction (goods, channel, party or vessel; not a whole-country embargo) covers, USD, pro-rated by the days in force of the longest-running one; = in reach + circumvention + undetermined.';
COMMENT ON COLUMN marts.route_risk.in_reach_value_usd IS 'Of which some covering authority reaches on what the data say (potential breach), USD.';
COMMENT ON COLUMN marts.route_risk.circumvention_value_usd IS 'Of which the data say no covering authority can reach (circumvention), USD.';
COMMENT ON COLUMN marts.route_risk.undetermined_value_usd IS 'Of which reach rests on an allocated or unknown channel or corridor (no finding), USD.';
COMMENT ON COLUMN marts.route_risk.covered_share IS 'covered_value_usd / value_usd.';
COMMENT ON COLUMN marts.route_risk.in_reach_share IS 'Component: in_reach_value_usd / value_usd.';
COMMENT ON COLUMN marts.route_risk.circumvention_share IS 'Component: circumvention_value_usd / value_usd.';
COMMENT ON COLUMN marts.route_risk.undetermined_share IS 'undetermined_value_usd / value_usd (shown, not scored: an assumption never makes a finding).';
COMMENT ON COLUMN marts.route_risk.best_chpl_tier IS 'Highest-concern CHPL tier among the route''s HS codes (1 highest).';
COMMENT ON COLUMN marts.route_risk.chpl_score IS 'Component: value-weighted CHPL tier score (tier 1 = 1.0, 2 = 0.85, 3.A = 0.7, 3.B = 0.6, 4.A/4.B = 0.5, not listed = 0).';
COMMENT ON COLUMN marts.route_risk.traceability_score IS 'Component: value-weighted channel opacity (low traceability = 1, medium = 0.5, high or unknown = 0).';
COMMENT ON COLUMN marts.route_risk.hub_share IS 'Component: share of value passing through or going to a FinCEN/BIS transshipment hub.';
COMMENT ON COLUMN marts.route_risk.size_score IS 'Component: ln(1 + value_usd) / ln(1 + the largest route value of the year, frequency and data_status): how the score weighs size.';
COMMENT ON COLUMN marts.route_risk.avoids_restricting_share IS 'Share of value on corridors crossing no jurisdiction of the authorities restricting it (shown, not scored: reach already counts transit).';
COMMENT ON COLUMN marts.route_risk.risk_score IS 'Score = 0.30 circumvention_share + 0.10 in_reach_share + 0.20 chpl_score + 0.15 traceability_score + 0.10 hub_share + 0.15 size_score.';
COMMENT ON COLUMN marts.route_risk.rests_on_allocation IS 'True when the route''s channel or corridor is allocated by rule or unknown: its score rests on that, and it ranks after the observed routes.';
COMMENT ON COLUMN marts.route_risk.risk_rank IS 'Rank within data_status, year and frequency (1 = riskiest): observed routes first, then by risk_score, ties broken by value.';
COMMENT ON COLUMN marts.route_risk.allocated_share IS 'Share of value whose channel or corridor was allocated by a sourced rule rather than observed.';
COMMENT ON COLUMN marts.route_risk.measure_ids IS 'Measures covering value on the route (ref.sanctions_measures), whole-country embargoes and obligations included.';
COMMENT ON COLUMN marts.route_risk.fx_rate_types IS 'FX rate types behind value_usd (market, official, market_approximate or official_approximate where ref.fx_rates flags the rate approximate, usd for a value in US dollars with no FX row).';
COMMENT ON COLUMN marts.route_risk.value_usd_alt_rate IS 'value_usd with every flow whose currency had a second rate type that month converted at it instead.';
