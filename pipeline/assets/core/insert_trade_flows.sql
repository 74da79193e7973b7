-- Valid flows (`incoming`, registered by the asset) → core.trade_flows, with
--   frequency, period_end: a YYYY period is an annual flow (its year), YYYY-MM a monthly one;
--   data_status: 'illustrative' for the shipped sample, 'real' for everything else;
--   hs_code_2022, hs_match: the HS 2022 code categories, CHPL tiers and measures are matched on. An HS 2017
--     code linked to one HS 2022 code takes it (exact); one split among several keeps its own number where
--     HS 2022 kept it, else falls back to its heading, its parent (approximate), through ref.hs_concordance;
--   hs_code_2017: the HS 2017 six-digit code lists written in HS 2017 are matched on: an HS 2017 flow's own first
--     six digits (a CN8 or national line matches on its HS6); an HS 2022 flow's through ref.hs_conversion, UNSD's
--     one-to-one conversion table (never the correlation table, which would fan a code out to many);
--   category_id: the goods category of the longest HS prefix in ref.hs_categories, found by
--     equi-joins on the flow's 6-, 4- and 2-digit prefixes (never LIKE/starts_with in a join);
--   value_usd, fx_rate_type, fx_rate_stale, value_usd_alt_rate: value × the rate of rates.sql (rated_keys, made
--     just before from the same rows), the rule every converted table follows.
--   unit_value_eur: value per item (quantity_units) in EUR, for measures bound to a price per item (EU luxury
--     goods): the value itself for a flow in EUR, else value_usd at the EUR rate rates.sql gives the flow's
--     period (rated_keys holds EUR for every period rated); NULL when the number of items or the EUR rate is unknown.
INSERT INTO core.trade_flows (
    flow_id, period, exporter_iso3, importer_iso3, hs_code, hs_edition, value, currency, quantity_kg, quantity_units,
    corridor_id, channel_id, transit_iso3, source, basis, flow_kind, exporter_name, importer_name, vessel_imo,
    frequency, period_end, data_status, hs_code_2022, hs_match, hs_code_2017, category_id, value_usd, unit_value_eur, fx_usd_per_unit, fx_rate_type, fx_rate_date, fx_rate_stale, value_usd_alt_rate, fx_alt_rate_type,
    source_file, row_number, file_sha256, run_id
)
WITH dated AS (
    SELECT *, CASE WHEN length(period) = 4 THEN 'annual' ELSE 'monthly' END AS frequency,
           strptime(CASE WHEN length(period) = 4 THEN period || '-01-01' ELSE period || '-01' END, '%Y-%m-%d')::DATE AS period_date
    FROM incoming
), hs2017 AS (  -- per HS 2017 code: how many HS 2022 codes it is linked to, and whether HS 2022 kept its number
    SELECT hs2017, count(*) AS links, bool_or(hs2022 = hs2017) AS kept, min(hs2022) AS only_code
    FROM ref.hs_concordance GROUP BY hs2017
), flows AS (
    SELECT d.*,
           CASE WHEN d.frequency = 'annual' THEN d.period_date + INTERVAL 1 YEAR ELSE d.period_date + INTERVAL 1 MONTH END AS period_end,
           CASE WHEN d.hs_edition = 'HS2022' THEN d.hs_code
                WHEN h.links = 1 THEN h.only_code
                WHEN h.kept THEN left(d.hs_code, 6)
                ELSE left(d.hs_code, 4) END AS hs_code_2022,
           CASE WHEN d.hs_edition = 'HS2022' OR h.links = 1 THEN 'exact' ELSE 'approximate' END AS hs_match
    -- the edition test inside the key keeps this an equi-join (a constant beside it makes a nested loop)
    FROM dated d LEFT JOIN hs2017 h ON h.hs2017 = CASE WHEN d.hs_edition = 'HS2017' THEN left(d.hs_code, 6) END
), converted AS (
    SELECT f.*,
           CASE WHEN length(f.hs_code) < 6 THEN NULL
                WHEN f.hs_edition = 'HS2017' THEN left(f.hs_code, 6)
                ELSE v.hs2017 END AS hs_code_2017
    FROM flows f LEFT JOIN ref.hs_conversion v ON v.hs2022 = CASE WHEN f.hs_edition = 'HS2022' THEN left(f.hs_code, 6) END
), rated AS (
    SELECT f.*, r.* EXCLUDE (currency, period_date, frequency), e.usd_per_unit AS eur_usd
    FROM converted f
    JOIN rated_keys r USING (currency, period_date, frequency)
    LEFT JOIN rated_keys e ON e.currency = 'EUR' AND e.period_date = f.period_date AND e.frequency = f.frequency
)
SELECT f.flow_id, f.period_date, f.exporter_iso3, f.importer_iso3, f.hs_code, f.hs_edition, f.value, f.currency, f.quantity_kg,
       f.quantity_units,
       f.corridor_id, f.channel_id, f.transit_iso3, f.source, f.basis, f.flow_kind, f.exporter_name, f.importer_name,
       'IMO' || right(f.vessel_imo, 7),  -- IMO1234567 whether written so, as IMO 1234567 or as 1234567
       f.frequency, f.period_end, CASE WHEN starts_with(f.source, $sample_source) THEN 'illustrative' ELSE 'real' END,
       f.hs_code_2022, f.hs_match, f.hs_code_2017,
       coalesce(c6.category_id, c4.category_id, c2.category_id) AS category_id,
       CAST(f.value * f.usd_per_unit AS DECIMAL(18, 2)),
       CASE WHEN f.quantity_units > 0 THEN
           CASE WHEN f.currency = 'EUR' THEN f.value ELSE f.value * f.usd_per_unit / f.eur_usd END / f.quantity_units
       END,
       f.usd_per_unit, f.rate_type, f.rate_date, f.stale,
       CAST(f.value * f.alt_usd_per_unit AS DECIMAL(18, 2)), f.alt_rate_type,
       f.source_file, f.row_number, f.file_sha256, $run_id
FROM rated f
-- the length test inside the key keeps these equi-joins (beside it, they become nested loops)
LEFT JOIN ref.hs_categories c6 ON c6.hs_prefix = CASE WHEN length(f.hs_code_2022) >= 6 THEN left(f.hs_code_2022, 6) END
LEFT JOIN ref.hs_categories c4 ON c4.hs_prefix = CASE WHEN length(f.hs_code_2022) >= 4 THEN left(f.hs_code_2022, 4) END
LEFT JOIN ref.hs_categories c2 ON c2.hs_prefix = left(f.hs_code_2022, 2);
