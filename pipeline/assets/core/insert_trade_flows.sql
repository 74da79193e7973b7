-- Valid flows (`incoming`, registered by the asset) → core.trade_flows, with
--   frequency, period_end: a YYYY period is an annual flow (its year), YYYY-MM a monthly one;
--   data_status: 'illustrative' for the shipped sample, 'real' for everything else;
--   hs_code_2022, hs_match: the HS 2022 code categories, CHPL tiers and measures are matched on. An HS 2017
--     code linked to one HS 2022 code takes it (exact); one split among several keeps its own number where
--     HS 2022 kept it, else falls back to its heading, its parent (approximate), through ref.hs_concordance;
--   category_id: the goods category of the longest HS prefix in ref.hs_categories, found by
--     equi-joins on the flow's 6-, 4- and 2-digit prefixes (never LIKE/starts_with in a join);
--   value_usd: value × the rate in force for the flow's month and currency (ASOF join: the latest
--     rate dated on or before the period). Where a market rate of that date exists it is preferred
--     over the official one: Iran's official rial rate was a subsidised rate an order of magnitude off.
--     An annual flow is twelve months of trade: where its currency has all 12 monthly rates of the
--     year in the chosen type, it is converted at their mean (fx_rate_date the year's first day),
--     else by the same ASOF rule at its year's first day;
--   fx_rate_type: market, official or usd, with the suffix _approximate where the rate (or one of the
--     12 averaged) is flagged approximate in ref.fx_rates (no shipped source publishes it);
--   value_usd_alt_rate: the same value at the other rate type, where the currency has one of the same
--     date, taken the same way (IRR until April 2022), so marts can show how much the choice of rate moves a figure.
INSERT INTO core.trade_flows (
    flow_id, period, exporter_iso3, importer_iso3, hs_code, hs_edition, value, currency, quantity_kg,
    corridor_id, channel_id, transit_iso3, source, basis, flow_kind, exporter_name, importer_name, vessel_imo,
    frequency, period_end, data_status, hs_code_2022, hs_match, category_id, value_usd, fx_usd_per_unit, fx_rate_type, fx_rate_date, value_usd_alt_rate, fx_alt_rate_type,
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
), market AS (
    SELECT currency, date, usd_per_unit, approximate FROM ref.fx_rates WHERE rate_type = 'market'
), official AS (
    SELECT currency, date, usd_per_unit, approximate FROM ref.fx_rates WHERE rate_type = 'official'
), yearly_market AS (  -- a year's mean, where all 12 monthly rates (dated the 1st) of the type exist
    SELECT currency, date_trunc('year', date)::DATE AS year, avg(usd_per_unit) AS usd_per_unit, bool_or(approximate) AS approximate
    FROM market WHERE date = date_trunc('month', date) GROUP BY ALL HAVING count(*) = 12
), yearly_official AS (
    SELECT currency, date_trunc('year', date)::DATE AS year, avg(usd_per_unit) AS usd_per_unit, bool_or(approximate) AS approximate
    FROM official WHERE date = date_trunc('month', date) GROUP BY ALL HAVING count(*) = 12
), rates_of_keys AS (  -- each type's rate: the year's mean for an annual flow where it exists, else the latest.
    -- Rated once per (currency, period, frequency), then joined to the flows: an ASOF join sorts its input
    SELECT k.currency, k.period_date, k.frequency,
           coalesce(ym.usd_per_unit, m.usd_per_unit) AS market_usd, CASE WHEN ym.year IS NULL THEN m.date ELSE ym.year END AS market_date,
           CASE WHEN coalesce(ym.approximate, m.approximate) THEN 'market_approximate' ELSE 'market' END AS market_type,
           ym.year IS NOT NULL AS market_mean,
           coalesce(yo.usd_per_unit, o.usd_per_unit) AS official_usd, CASE WHEN yo.year IS NULL THEN o.date ELSE yo.year END AS official_date,
           CASE WHEN coalesce(yo.approximate, o.approximate) THEN 'official_approximate' ELSE 'official' END AS official_type,
           yo.year IS NOT NULL AS official_mean
    FROM (SELECT DISTINCT currency, period_date, frequency FROM flows) k
    ASOF LEFT JOIN market m ON m.currency = k.currency AND k.period_date >= m.date
    ASOF LEFT JOIN official o ON o.currency = k.currency AND k.period_date >= o.date
    -- the frequency test inside the key keeps these equi-joins
    LEFT JOIN yearly_market ym ON ym.currency = k.currency AND ym.year = CASE WHEN k.frequency = 'annual' THEN k.period_date END
    LEFT JOIN yearly_official yo ON yo.currency = k.currency AND yo.year = CASE WHEN k.frequency = 'annual' THEN k.period_date END
), rated_keys AS (  -- the latest rate wins; a market rate wins over an official one of the same date
    SELECT *, market_date IS NOT NULL AND (official_date IS NULL OR market_date >= official_date) AS use_market
    FROM rates_of_keys
), rated AS (
    SELECT f.*, r.* EXCLUDE (currency, period_date, frequency) FROM flows f JOIN rated_keys r USING (currency, period_date, frequency)
), chosen AS (  -- the rate used and, where the other type has a rate of the same date taken the same way, that one
    SELECT *,
           -- a value already in US dollars needs no FX row (imported files: Comtrade, BACI)
           CASE WHEN use_market THEN market_usd WHEN official_date IS NOT NULL THEN official_usd
                WHEN currency = 'USD' THEN 1.0 END AS usd_per_unit,
           CASE WHEN use_market THEN market_type WHEN official_date IS NOT NULL THEN official_type
                WHEN currency = 'USD' THEN 'usd' END AS rate_type,
           CASE WHEN use_market THEN market_date ELSE official_date END AS rate_date,
           market_date = official_date AND market_mean = official_mean AS has_alt,
           CASE WHEN has_alt THEN CASE WHEN use_market THEN official_usd ELSE market_usd END END AS alt_usd_per_unit,
           CASE WHEN has_alt THEN CASE WHEN use_market THEN official_type ELSE market_type END END AS alt_rate_type
    FROM rated
)
SELECT f.flow_id, f.period_date, f.exporter_iso3, f.importer_iso3, f.hs_code, f.hs_edition, f.value, f.currency, f.quantity_kg,
       f.corridor_id, f.channel_id, f.transit_iso3, f.source, f.basis, f.flow_kind, f.exporter_name, f.importer_name, f.vessel_imo,
       f.frequency, f.period_end, CASE WHEN starts_with(f.source, $sample_source) THEN 'illustrative' ELSE 'real' END,
       f.hs_code_2022, f.hs_match,
       coalesce(c6.category_id, c4.category_id, c2.category_id) AS category_id,
       CAST(f.value * f.usd_per_unit AS DECIMAL(18, 2)), f.usd_per_unit, f.rate_type, f.rate_date,
       CAST(f.value * f.alt_usd_per_unit AS DECIMAL(18, 2)), f.alt_rate_type,
       f.source_file, f.row_number, f.file_sha256, $run_id
FROM chosen f
-- the length test inside the key keeps these equi-joins (beside it, they become nested loops)
LEFT JOIN ref.hs_categories c6 ON c6.hs_prefix = CASE WHEN length(f.hs_code_2022) >= 6 THEN left(f.hs_code_2022, 6) END
LEFT JOIN ref.hs_categories c4 ON c4.hs_prefix = CASE WHEN length(f.hs_code_2022) >= 4 THEN left(f.hs_code_2022, 4) END
LEFT JOIN ref.hs_categories c2 ON c2.hs_prefix = left(f.hs_code_2022, 2);
