-- marts.claims_check — Where does the data disagree with what officials said? Every published claim
-- in ref.claims beside the figure the warehouse gives for the same metric, scope and period
-- (canonical reports only). Tolerance is relative to the claimed value; bounds (at_least, at_most)
-- allow it too. comparable says whether claim and data measure the same thing; calibrated says the
-- data were tuned to the claim (the shipped sample was generated to match it, or a reference seed was
-- written from it), so agreement proves nothing.
-- Grain: one row per claim_id; DuckLake tables take no keys, so the grain is checked by its Great Expectations suite (unique).
CREATE OR REPLACE TABLE marts.claims_check (
    claim_id             VARCHAR NOT NULL,
    metric               VARCHAR NOT NULL,
    scope                VARCHAR NOT NULL,
    period_start         DATE    NOT NULL,
    period_end           DATE    NOT NULL,
    claimed_value        DOUBLE  NOT NULL,
    unit                 VARCHAR NOT NULL,
    relation             VARCHAR NOT NULL,
    tolerance            DOUBLE  NOT NULL,
    comparable           BOOLEAN NOT NULL,
    calibrated           BOOLEAN NOT NULL,
    data_value           DOUBLE,
    difference           DOUBLE,
    relative_difference  DOUBLE,
    agrees               BOOLEAN,
    verdict              VARCHAR NOT NULL,
    data_basis           VARCHAR NOT NULL,
    speaker              VARCHAR NOT NULL,
    date_stated          DATE    NOT NULL,
    source               VARCHAR NOT NULL
);
INSERT INTO marts.claims_check
WITH claims AS (
    SELECT *, least(split_part(scope, '-', 1), split_part(scope, '-', 2)) AS side_a,
              greatest(split_part(scope, '-', 1), split_part(scope, '-', 2)) AS side_b
    FROM ref.claims
), pair_flows AS (  -- flows between the claim's two countries, both directions, in its period
    SELECT c.claim_id, f.value_usd, g.sector, starts_with(f.source, $sample_source) AS from_sample
    FROM claims c
    JOIN core.trade_flows f
      ON least(f.exporter_iso3, f.importer_iso3) = c.side_a AND greatest(f.exporter_iso3, f.importer_iso3) = c.side_b
     AND f.period BETWEEN c.period_start AND c.period_end AND f.canonical
    LEFT JOIN ref.goods_categories g USING (category_id)
), previous_year AS (
    SELECT c.claim_id, sum(f.value_usd) AS value_usd
    FROM claims c
    JOIN core.trade_flows f
      ON least(f.exporter_iso3, f.importer_iso3) = c.side_a AND greatest(f.exporter_iso3, f.importer_iso3) = c.side_b
     AND f.period BETWEEN c.period_start - INTERVAL 1 YEAR AND c.period_end - INTERVAL 1 YEAR AND f.canonical
    WHERE c.metric = 'bilateral_trade_yoy'
    GROUP BY ALL
), pair_routes AS (
    SELECT c.claim_id, r.value_usd, p.kind
    FROM claims c
    JOIN core.routed_flows r
      ON least(r.exporter_iso3, r.importer_iso3) = c.side_a AND greatest(r.exporter_iso3, r.importer_iso3) = c.side_b
     AND r.period BETWEEN c.period_start AND c.period_end AND r.canonical
    LEFT JOIN ref.payment_channels p USING (channel_id)
    WHERE c.metric = 'national_currency_share'
), corridor_figures AS (
    SELECT c.claim_id, c.metric,
           avg(k.route_km) AS route_km, max(k.transit_days_max) AS days_max
    FROM claims c
    JOIN (SELECT corridor_id, branch, transit_days_max, (SELECT sum(distance_km) FROM ref.corridor_legs l WHERE l.corridor_id = r.corridor_id) AS route_km
          FROM ref.corridors r) k
      ON k.corridor_id = c.scope OR k.branch = c.scope OR (c.scope = 'instc' AND k.branch IN ('western', 'trans_caspian', 'eastern'))
    WHERE c.metric IN ('corridor_distance_km', 'corridor_transit_days_max')
    GROUP BY ALL
), figures AS (
    SELECT claim_id, sum(value_usd)::DOUBLE AS data_value, 'sum of core.trade_flows.value_usd, both directions' AS data_basis
    FROM pair_flows JOIN claims USING (claim_id) WHERE metric = 'bilateral_trade_usd' GROUP BY ALL
    UNION ALL
    SELECT claim_id, sum(pair_flows.value_usd)::DOUBLE / nullif(any_value(p.value_usd), 0) - 1, 'value_usd against the same period a year earlier'
    FROM pair_flows JOIN claims USING (claim_id) JOIN previous_year p USING (claim_id)
    WHERE metric = 'bilateral_trade_yoy' GROUP BY ALL
    UNION ALL
    SELECT claim_id, sum(value_usd) FILTER (WHERE sector = 'agriculture')::DOUBLE / nullif(sum(value_usd), 0),
           'share of value_usd in agriculture categories'
    FROM pair_flows JOIN claims USING (claim_id) WHERE metric = 'agri_share' GROUP BY ALL
    UNION ALL
    SELECT claim_id, coalesce(sum(value_usd) FILTER (WHERE kind = 'national_currency'), 0)::DOUBLE / nullif(sum(value_usd), 0),
           'share of routed value_usd through national-currency channels (observed or allocated)'
    FROM pair_routes GROUP BY ALL
    UNION ALL
    SELECT claim_id, route_km, 'mean length of the matching corridors in ref.corridor_legs (Bandar Abbas–Moscow), km'
    FROM corridor_figures WHERE metric = 'corridor_distance_km'
    UNION ALL
    SELECT claim_id, days_max, 'slowest transit_days_max of the matching corridors'
    FROM corridor_figures WHERE metric = 'corridor_transit_days_max'
), sampled AS (  -- claims whose figure rests on flows of the shipped illustrative sample
    SELECT DISTINCT claim_id FROM pair_flows WHERE from_sample
), compared AS (
    SELECT c.*, f.data_value, coalesce(f.data_basis, 'no data for this scope and period') AS data_basis,
           f.data_value - c.value AS difference,
           abs(c.value) * c.tolerance AS slack,
           c.tuned_to = 'reference' OR (c.tuned_to = 'sample' AND s.claim_id IS NOT NULL) AS calibrated
    FROM claims c LEFT JOIN figures f USING (claim_id) LEFT JOIN sampled s USING (claim_id)
)
SELECT claim_id, metric, scope, period_start, period_end, value, unit, relation, tolerance,
       comparable, calibrated,
       data_value, difference, difference / nullif(abs(value), 0),
       agrees,
       -- agreement with a figure the data were tuned to proves nothing: it is said first
       CASE WHEN calibrated THEN 'calibrated (no evidence)' WHEN data_value IS NULL THEN 'no data'
            WHEN agrees THEN 'agrees' ELSE 'disagrees' END,
       data_basis, speaker, date_stated, source
FROM (
    SELECT * REPLACE (coalesce(calibrated, false) AS calibrated),
           CASE relation WHEN 'approx' THEN abs(difference) <= slack
                         WHEN 'at_least' THEN data_value >= value - slack
                         WHEN 'at_most' THEN data_value <= value + slack END AS agrees
    FROM compared
);

COMMENT ON TABLE marts.claims_check IS 'Where does the data disagree with what officials said? Each published claim beside the warehouse''s figure.';
COMMENT ON COLUMN marts.claims_check.claim_id IS 'Claim (ref.claims).';
COMMENT ON COLUMN marts.claims_check.metric IS 'What the claim measures.';
COMMENT ON COLUMN marts.claims_check.scope IS 'Country pair (IRN-RUS) or corridor the claim is about.';
COMMENT ON COLUMN marts.claims_check.period_start IS 'First day of the claim''s period.';
COMMENT ON COLUMN marts.claims_check.period_end IS 'Last day of the claim''s period.';
COMMENT ON COLUMN marts.claims_check.claimed_value IS 'The published figure.';
COMMENT ON COLUMN marts.claims_check.unit IS 'USD, ratio (0.95 = 95%), km or days.';
COMMENT ON COLUMN marts.claims_check.relation IS '`approx`, `at_least` or `at_most`.';
COMMENT ON COLUMN marts.claims_check.tolerance IS 'Agreement tolerance, relative to the claimed value (0.10 = within 10% of it).';
COMMENT ON COLUMN marts.claims_check.comparable IS 'False when the claim''s definition or endpoints differ from what the data measure (ref.claims.comparability_note says how); agreement then means little.';
COMMENT ON COLUMN marts.claims_check.calibrated IS 'True when the data were tuned to this claim (the shipped sample was generated to match it, or a reference seed was written from it): agreement proves nothing.';
COMMENT ON COLUMN marts.claims_check.data_value IS 'The figure the warehouse gives for the same metric, scope and period.';
COMMENT ON COLUMN marts.claims_check.difference IS 'data_value - claimed_value.';
COMMENT ON COLUMN marts.claims_check.relative_difference IS '`difference` / |claimed_value|.';
COMMENT ON COLUMN marts.claims_check.agrees IS 'Whether the data agrees with the claim within the tolerance; NULL without data.';
COMMENT ON COLUMN marts.claims_check.verdict IS 'What the comparison proves: calibrated (no evidence) when the data were tuned to the claim, else agrees, disagrees or no data.';
COMMENT ON COLUMN marts.claims_check.data_basis IS 'How data_value was computed.';
COMMENT ON COLUMN marts.claims_check.speaker IS 'Who made the claim.';
COMMENT ON COLUMN marts.claims_check.date_stated IS 'When the claim was made.';
COMMENT ON COLUMN marts.claims_check.source IS 'Where the claim was published.';
