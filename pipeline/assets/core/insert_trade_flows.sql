-- Valid flows (`incoming`, registered by the asset) → core.trade_flows, with
--   category_id: the goods category of the longest HS prefix in ref.hs_categories, found by
--     equi-joins on the flow's 6-, 4- and 2-digit prefixes (never LIKE/starts_with in a join);
--   value_usd: value × the rate in force for the flow's month and currency (ASOF join: the latest
--     rate dated on or before the period). Where a market rate exists it is preferred over the
--     official one: Iran's official rial rate is a subsidised rate an order of magnitude off.
INSERT INTO core.trade_flows (
    flow_id, period, exporter_iso3, importer_iso3, hs_code, value, currency, quantity_kg,
    corridor_id, channel_id, transit_iso3, source, basis,
    category_id, value_usd, fx_usd_per_unit, fx_rate_type, fx_rate_date,
    source_file, row_number, file_sha256, run_id
)
WITH flows AS (
    SELECT *, strptime(period || '-01', '%Y-%m-%d')::DATE AS period_date FROM incoming
), rates AS (
    SELECT currency, date, usd_per_unit, rate_type
    FROM ref.fx_rates
    QUALIFY row_number() OVER (PARTITION BY currency, date ORDER BY rate_type = 'market' DESC) = 1
)
SELECT f.flow_id, f.period_date, f.exporter_iso3, f.importer_iso3, f.hs_code, f.value, f.currency, f.quantity_kg,
       f.corridor_id, f.channel_id, f.transit_iso3, f.source, f.basis,
       coalesce(c6.category_id, c4.category_id, c2.category_id) AS category_id,
       CAST(f.value * r.usd_per_unit AS DECIMAL(18, 2)) AS value_usd,
       r.usd_per_unit,
       r.rate_type,
       r.date,
       f.source_file, f.row_number, f.file_sha256, $run_id
FROM flows f
LEFT JOIN ref.hs_categories c6 ON length(f.hs_code) >= 6 AND c6.hs_prefix = left(f.hs_code, 6)
LEFT JOIN ref.hs_categories c4 ON length(f.hs_code) >= 4 AND c4.hs_prefix = left(f.hs_code, 4)
LEFT JOIN ref.hs_categories c2 ON c2.hs_prefix = left(f.hs_code, 2)
ASOF LEFT JOIN rates r ON r.currency = f.currency AND f.period_date >= r.date;
