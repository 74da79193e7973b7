-- Routing of every flow of the run's months (into the temporary table `routed`): a flow with an observed channel or
-- corridor keeps it (basis observed); one without is split by the most specific allocation rule
-- valid for its month (basis allocated, with the rule id); with no rule it goes whole to the `unknown`
-- channel or corridor (basis unknown): a value no source allocates is not spread by a guess.
-- The channel split and the corridor split multiply. Rules are resolved once per distinct
-- (exporter, importer, category, month), then joined back to the flows on equal keys.
-- Within the run a flow is `flow_key` and a routed row `route_key` (integers numbered here, not stored):
-- joins and window partitions on them cost a fraction of those on the VARCHAR flow_id. `routed` holds only
-- what routing decides and the row's values: a flow's attributes stay in `window_flows`, joined by flow_key
-- where needed (copying them onto every routed row was most of routing's cost).
CREATE OR REPLACE TEMP TABLE window_flows AS  -- what routing, sanctions and core.routed_flows read of a flow
SELECT row_number() OVER () AS flow_key, flow_id, period, period_end, frequency, data_status, exporter_iso3, importer_iso3,
       hs_code, hs_code_2022, hs_match, hs_code_2017, category_id, transit_iso3, basis, canonical, exporter_name, importer_name,
       vessel_imo, channel_id, corridor_id, unit_value_eur, value_usd, value_usd_alt_rate, fx_rate_type, quantity_kg
FROM core.trade_flows WHERE period >= $window_start AND period < $window_end;

CREATE OR REPLACE TEMP TABLE flow_keys AS
SELECT DISTINCT exporter_iso3, importer_iso3, coalesce(category_id, '') AS category_id, period
FROM window_flows;

CREATE OR REPLACE TEMP TABLE key_rules AS  -- with `targets`: how many rows the rule splits a flow of the key into
SELECT *, count(*) OVER (PARTITION BY exporter_iso3, importer_iso3, category_id, period, dimension) AS targets
FROM (
SELECT k.exporter_iso3, k.importer_iso3, k.category_id, k.period,
       r.dimension, r.rule_id, r.target_id, r.share
FROM flow_keys k
JOIN ref.allocation_rules r
  ON r.exporter_iso3 IN (k.exporter_iso3, '*')
 AND r.importer_iso3 IN (k.importer_iso3, '*')
 AND r.category_id IN (k.category_id, '*')
 AND k.period >= r.valid_from
 AND (r.valid_to IS NULL OR k.period < r.valid_to)
-- the most specific key wins: exporter, then importer, then category; then the latest start
QUALIFY dense_rank() OVER (
    PARTITION BY k.exporter_iso3, k.importer_iso3, k.category_id, k.period, r.dimension
    ORDER BY (r.exporter_iso3 <> '*')::INT + (r.importer_iso3 <> '*')::INT + (r.category_id <> '*')::INT DESC,
             r.exporter_iso3 <> '*' DESC, r.importer_iso3 <> '*' DESC, r.valid_from DESC
) = 1
);

CREATE OR REPLACE TEMP TABLE routed AS
WITH flows AS (
    SELECT *, coalesce(category_id, '') AS category_key FROM window_flows
), channel_rules AS (
    SELECT * FROM key_rules WHERE dimension = 'channel'
), corridor_rules AS (
    SELECT * FROM key_rules WHERE dimension = 'corridor'
), channel_split AS (
    SELECT flow_key, channel_id, 'observed' AS channel_basis, NULL AS channel_rule_id, 1.0 AS channel_share, 1 AS channel_rows
    FROM flows WHERE channel_id IS NOT NULL
    UNION ALL
    SELECT f.flow_key, coalesce(kr.target_id, 'unknown'),
           CASE WHEN kr.rule_id IS NULL THEN 'unknown' ELSE 'allocated' END,
           kr.rule_id, coalesce(kr.share, 1.0), coalesce(kr.targets, 1)
    FROM (SELECT * FROM flows WHERE channel_id IS NULL) f
    LEFT JOIN channel_rules kr
      ON kr.exporter_iso3 = f.exporter_iso3 AND kr.importer_iso3 = f.importer_iso3
     AND kr.category_id = f.category_key AND kr.period = f.period
), corridor_split AS (
    SELECT flow_key, corridor_id, 'observed' AS corridor_basis, NULL AS corridor_rule_id, 1.0 AS corridor_share, 1 AS corridor_rows
    FROM flows WHERE corridor_id IS NOT NULL
    UNION ALL
    SELECT f.flow_key, coalesce(kr.target_id, 'unknown'),
           CASE WHEN kr.rule_id IS NULL THEN 'unknown' ELSE 'allocated' END,
           kr.rule_id, coalesce(kr.share, 1.0), coalesce(kr.targets, 1)
    FROM (SELECT * FROM flows WHERE corridor_id IS NULL) f
    LEFT JOIN corridor_rules kr
      ON kr.exporter_iso3 = f.exporter_iso3 AND kr.importer_iso3 = f.importer_iso3
     AND kr.category_id = f.category_key AND kr.period = f.period
), split AS (
    SELECT f.flow_key, f.value_usd, f.value_usd_alt_rate, f.quantity_kg, ch.channel_id AS routed_channel_id, ch.channel_basis, ch.channel_rule_id,
           co.corridor_id AS routed_corridor_id, co.corridor_basis, co.corridor_rule_id,
           ch.channel_share * co.corridor_share AS share, ch.channel_rows * co.corridor_rows = 1 AS single,
           CAST(f.value_usd * ch.channel_share * co.corridor_share AS DECIMAL(18, 2)) AS rounded_usd,
           f.value_usd::DOUBLE * 100 * ch.channel_share * co.corridor_share AS exact_cents,
           coalesce(CAST(f.value_usd_alt_rate * (ch.channel_share * co.corridor_share) AS DECIMAL(18, 2)),
                    CAST(f.value_usd * ch.channel_share * co.corridor_share AS DECIMAL(18, 2))) AS rounded_alt
    FROM flows f
    JOIN channel_split ch USING (flow_key)
    JOIN corridor_split co USING (flow_key)
), sequenced AS (  -- each row's place in its flow, and its flow's totals. The totals are over the unordered
                   -- partition: the same sums over an ordered whole-partition frame cost 40 times as much here.
                   -- A flow of one row (most: no rule splits it) is its own flow, so it needs no window.
    SELECT * EXCLUDE (single), 1 AS route_seq, rounded_usd AS flow_rounded_usd, floor(exact_cents) AS flow_floor_cents,
           1 AS remainder_rank, rounded_alt AS flow_rounded_alt, 1 AS routes
    FROM split WHERE single
    UNION ALL
    SELECT * EXCLUDE (single),
           row_number() OVER by_share AS route_seq,
           sum(rounded_usd) OVER flow AS flow_rounded_usd,
           sum(floor(exact_cents)) OVER flow AS flow_floor_cents,
           row_number() OVER by_remainder AS remainder_rank,
           sum(rounded_alt) OVER flow AS flow_rounded_alt,
           count(*) OVER flow AS routes
    FROM split WHERE NOT single
    WINDOW flow AS (PARTITION BY flow_key),
           by_share AS (PARTITION BY flow_key ORDER BY share DESC, routed_channel_id, routed_corridor_id),
           by_remainder AS (PARTITION BY flow_key ORDER BY exact_cents - floor(exact_cents) DESC, share DESC,
                            routed_channel_id, routed_corridor_id)
)
SELECT row_number() OVER () AS route_key, flow_key, route_seq,
       routed_channel_id AS channel_id, channel_basis, channel_rule_id,
       routed_corridor_id AS corridor_id, corridor_basis, corridor_rule_id,
       share,
       -- largest remainders: each row takes its share's whole cents, and the cents left over go one each to
       -- the rows with the largest fractions, so every row is within a cent of its share and every flow adds
       -- up exactly. More cents left over than routes means shares not summing to 1: they are given to no
       -- route, and the blocking totals_preserved check names the flow.
       CASE WHEN round(value_usd * 100) - flow_floor_cents BETWEEN 0 AND routes
            THEN CAST((floor(exact_cents) + CASE WHEN remainder_rank <= round(value_usd * 100) - flow_floor_cents
                                                 THEN 1 ELSE 0 END) / 100 AS DECIMAL(18, 2))
            ELSE rounded_usd END AS value_usd,
       -- the same split of the value at the other rate type where the currency had one, else of value_usd
       CASE WHEN route_seq = 1 AND abs(coalesce(value_usd_alt_rate, value_usd) - flow_rounded_alt) <= 0.01 * routes
            THEN coalesce(value_usd_alt_rate, value_usd) - (flow_rounded_alt - rounded_alt)
            ELSE rounded_alt END AS value_usd_alt_rate,
       quantity_kg * share AS quantity_kg
FROM sequenced;
