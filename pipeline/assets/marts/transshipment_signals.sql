-- marts.transshipment_signals — Where do third countries suddenly import what sanctioned economies
-- may no longer buy? For flows between two countries that are not sanctions targets, by
-- intermediary (the importer), category and CHPL tier, per year: growth against a pre-sanction
-- baseline window ($baseline_first_year..$baseline_last_year, monthly averages) of the canonical
-- reports (each trade once), the mirror gap where both the exporter and the intermediary report
-- (both observations, on purpose), and what the intermediary sends on to sanctions targets.
-- CHPL tiers first: sort by chpl_rank. Growth is measured in monthly averages, per frequency: a year of monthly
-- flows averages its months of data; an annual flow (CEPII BACI, Eurostat's annual files) is twelve months of
-- trade, so its monthly average is a twelfth. The two frequencies are never added (frequency is in the grain).
-- Grain: one row per (data_status, frequency, intermediary_iso3, category_id, chpl_tier, year); DuckLake tables take no keys, so the grain is checked by its Great Expectations suite (unique).
CREATE TABLE IF NOT EXISTS marts.transshipment_signals (
    data_status                VARCHAR NOT NULL,
    frequency                  VARCHAR NOT NULL,
    intermediary_iso3          VARCHAR NOT NULL,
    category_id                VARCHAR NOT NULL,
    chpl_tier                  VARCHAR NOT NULL,
    chpl_rank                  INTEGER NOT NULL,
    year                       INTEGER NOT NULL,
    transshipment_hub          BOOLEAN NOT NULL,
    value_usd                  DECIMAL(18, 2) NOT NULL,
    monthly_usd                DOUBLE  NOT NULL,
    baseline_monthly_usd       DOUBLE,
    growth_vs_baseline         DOUBLE,
    exporter_reported_usd      DECIMAL(18, 2) NOT NULL,
    importer_reported_usd      DECIMAL(18, 2) NOT NULL,
    mirror_gap_usd             DECIMAL(18, 2),
    mirror_gap_share           DOUBLE,
    reexports_to_targets_usd   DECIMAL(18, 2) NOT NULL,
    baseline_years             VARCHAR NOT NULL,
    allocated_share            DOUBLE  NOT NULL,
    fx_rate_types              VARCHAR[] NOT NULL,
    value_usd_alt_rate         DECIMAL(18, 2) NOT NULL
);
-- A run rewrites the whole years its months fall in (window_start and window_end are their bounds) and leaves the
-- other years as they are. Only while the baseline years are not among them (marts.py rebuilds whole otherwise):
-- the rows of the baseline years kept in the table then hold each key's baseline as a full rebuild computes it.
DELETE FROM marts.transshipment_signals WHERE year >= year($window_start) AND year < year($window_end);
INSERT INTO marts.transshipment_signals
WITH targets AS (
    SELECT DISTINCT target_country AS iso3 FROM ref.sanctions_measures
), tiers(tier, rank) AS (
    VALUES ('1', 1), ('2', 2), ('3.A', 3), ('3.B', 4), ('4.A', 5), ('4.B', 6)
), flows AS NOT MATERIALIZED (  -- used thrice: each use scans the columns it needs; materialized, every column
    -- of every monthly flow was written once (24M flows: 28 s and 2.4 GB, against 8 s and 0.6 GB)
    SELECT f.*, year(f.period) AS year,
           coalesce(f.category_id, 'uncategorised') AS category,
           coalesce(c.tier, 'not listed') AS chpl_tier, coalesce(t.rank, 7) AS chpl_rank
    FROM core.trade_flows f
    LEFT JOIN ref.chpl c ON c.hs6 = left(f.hs_code_2022, 6)
    LEFT JOIN tiers t ON t.tier = c.tier
    WHERE f.period >= $window_start AND f.period < $window_end
), months AS (  -- months of data in each year, for monthly averages: an annual flow holds twelve
    SELECT data_status, frequency, year, count(DISTINCT period) * CASE WHEN any_value(frequency) = 'annual' THEN 12 ELSE 1 END AS n
    FROM flows GROUP BY ALL
), inbound AS (
    SELECT data_status, frequency, importer_iso3 AS intermediary_iso3, category, chpl_tier, chpl_rank, year,
           coalesce(sum(value_usd) FILTER (WHERE canonical), 0) AS canonical_usd,
           coalesce(sum(coalesce(value_usd_alt_rate, value_usd)) FILTER (WHERE canonical), 0) AS canonical_alt_usd,
           coalesce(sum(value_usd) FILTER (WHERE canonical AND (channel_id IS NULL OR corridor_id IS NULL)), 0) AS unobserved_usd,
           coalesce(list(DISTINCT fx_rate_type ORDER BY fx_rate_type) FILTER (WHERE canonical AND fx_rate_type IS NOT NULL), []) AS fx_rate_types,
           coalesce(sum(value_usd) FILTER (WHERE basis = 'exporter_reported'), 0) AS exporter_reported_usd,
           coalesce(sum(value_usd) FILTER (WHERE basis = 'importer_reported'), 0) AS importer_reported_usd
    FROM flows
    WHERE exporter_iso3 NOT IN (SELECT iso3 FROM targets) AND importer_iso3 NOT IN (SELECT iso3 FROM targets)
    GROUP BY ALL
), onward AS (
    SELECT data_status, frequency, exporter_iso3 AS intermediary_iso3, category, chpl_tier, year, sum(value_usd) AS reexports_usd
    FROM flows
    WHERE importer_iso3 IN (SELECT iso3 FROM targets) AND exporter_iso3 NOT IN (SELECT iso3 FROM targets) AND canonical
    GROUP BY ALL
), valued AS (
    SELECT i.*, canonical_usd AS value_usd, canonical_usd::DOUBLE / m.n AS monthly_usd
    FROM inbound i JOIN months m USING (data_status, frequency, year)
), baseline AS (  -- computed when the run reads the baseline years (a full rebuild), else as the table keeps it
    SELECT data_status, frequency, intermediary_iso3, category, chpl_tier, sum(value_usd)::DOUBLE / sum(m.n) AS baseline_monthly_usd
    FROM valued v JOIN months m USING (data_status, frequency, year)
    WHERE year BETWEEN $baseline_first_year AND $baseline_last_year
    GROUP BY ALL
    UNION ALL
    SELECT DISTINCT data_status, frequency, intermediary_iso3, category_id, chpl_tier, baseline_monthly_usd
    FROM marts.transshipment_signals
    WHERE year BETWEEN $baseline_first_year AND $baseline_last_year
)
SELECT v.data_status, v.frequency, v.intermediary_iso3, v.category, v.chpl_tier, v.chpl_rank, v.year,
       coalesce(j.transshipment_hub, false),
       v.value_usd, v.monthly_usd, b.baseline_monthly_usd,
       v.monthly_usd / nullif(b.baseline_monthly_usd, 0) - 1,
       v.exporter_reported_usd, v.importer_reported_usd,
       CASE WHEN v.exporter_reported_usd > 0 AND v.importer_reported_usd > 0
            THEN v.exporter_reported_usd - v.importer_reported_usd END,
       CASE WHEN v.exporter_reported_usd > 0 AND v.importer_reported_usd > 0
            THEN (v.exporter_reported_usd - v.importer_reported_usd)::DOUBLE / v.exporter_reported_usd END,
       coalesce(o.reexports_usd, 0),
       $baseline_first_year || '–' || $baseline_last_year,
       coalesce(v.unobserved_usd::DOUBLE / nullif(v.value_usd, 0), 0),
       v.fx_rate_types,
       v.canonical_alt_usd
FROM valued v
LEFT JOIN baseline b USING (data_status, frequency, intermediary_iso3, category, chpl_tier)
LEFT JOIN onward o USING (data_status, frequency, intermediary_iso3, category, chpl_tier, year)
LEFT JOIN ref.jurisdictions j ON j.country_iso3 = v.intermediary_iso3;

COMMENT ON TABLE marts.transshipment_signals IS 'Where do third countries suddenly import what sanctioned economies may no longer buy? Growth against a pre-sanction baseline, mirror gaps and onward flows; sort by chpl_rank.';
COMMENT ON COLUMN marts.transshipment_signals.data_status IS '`illustrative` (the shipped sample) or `real`; never add the two.';
COMMENT ON COLUMN marts.transshipment_signals.frequency IS '`monthly` or `annual`: the flows the row rests on (never add the two: a year holds its months).';
COMMENT ON COLUMN marts.transshipment_signals.intermediary_iso3 IS 'Third country importing the goods (ISO3).';
COMMENT ON COLUMN marts.transshipment_signals.category_id IS 'Goods category.';
COMMENT ON COLUMN marts.transshipment_signals.chpl_tier IS 'CHPL tier of the HS6 codes, or not listed.';
COMMENT ON COLUMN marts.transshipment_signals.chpl_rank IS 'Sort key: CHPL tier 1 = 1 … 4.B = 6, not listed = 7.';
COMMENT ON COLUMN marts.transshipment_signals.year IS 'Calendar year.';
COMMENT ON COLUMN marts.transshipment_signals.transshipment_hub IS 'Intermediary is on the FinCEN/BIS transshipment-hub list.';
COMMENT ON COLUMN marts.transshipment_signals.value_usd IS 'Value into the intermediary, canonical reports only (the intermediary''s import records where it reports, else the exporters''), USD.';
COMMENT ON COLUMN marts.transshipment_signals.monthly_usd IS 'value_usd per month of data in the year (an annual flow counts twelve months).';
COMMENT ON COLUMN marts.transshipment_signals.baseline_monthly_usd IS 'Monthly value in the baseline window (baseline_years).';
COMMENT ON COLUMN marts.transshipment_signals.growth_vs_baseline IS 'monthly_usd / baseline_monthly_usd - 1.';
COMMENT ON COLUMN marts.transshipment_signals.exporter_reported_usd IS 'Value as the exporting countries report it.';
COMMENT ON COLUMN marts.transshipment_signals.importer_reported_usd IS 'Value as the intermediary reports its imports.';
COMMENT ON COLUMN marts.transshipment_signals.mirror_gap_usd IS 'Exporter-reported minus importer-reported value, where both exist.';
COMMENT ON COLUMN marts.transshipment_signals.mirror_gap_share IS 'mirror_gap_usd / exporter_reported_usd.';
COMMENT ON COLUMN marts.transshipment_signals.reexports_to_targets_usd IS 'Same category and tier sent on by the intermediary to sanctions targets that year (canonical reports).';
COMMENT ON COLUMN marts.transshipment_signals.allocated_share IS 'Share of value_usd whose channel or corridor is not observed (allocated by rule in core.routed_flows; this mart does not split by them).';
COMMENT ON COLUMN marts.transshipment_signals.fx_rate_types IS 'FX rate types behind value_usd (market, official, market_approximate or official_approximate where ref.fx_rates flags the rate approximate, usd for a value in US dollars with no FX row).';
COMMENT ON COLUMN marts.transshipment_signals.value_usd_alt_rate IS 'value_usd with every flow whose currency had a second rate type that month converted at it instead.';
COMMENT ON COLUMN marts.transshipment_signals.baseline_years IS 'Baseline window (first–last year) used for growth_vs_baseline.';
