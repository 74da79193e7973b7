-- Total-goods rows of the imported files (`incoming_totals`, registered by the asset) → core.trade_totals,
-- converted to US dollars at the rate in force for the period, as core.trade_flows is (insert_trade_flows.sql).
INSERT INTO core.trade_totals (
    exporter_iso3, importer_iso3, period, frequency, basis, value, currency, value_usd, fx_usd_per_unit,
    fx_rate_type, fx_rate_date, source, file, row, data_status
)
WITH dated AS (
    SELECT *, CASE WHEN length(period) = 4 THEN 'annual' ELSE 'monthly' END AS frequency,
           strptime(CASE WHEN length(period) = 4 THEN period || '-01-01' ELSE period || '-01' END, '%Y-%m-%d')::DATE AS period_date
    FROM incoming_totals
), market AS (
    SELECT currency, date, usd_per_unit FROM ref.fx_rates WHERE rate_type = 'market'
), official AS (
    SELECT currency, date, usd_per_unit FROM ref.fx_rates WHERE rate_type = 'official'
), rated_keys AS (
    SELECT k.currency, k.period_date,
           CASE WHEN m.date IS NOT NULL AND (o.date IS NULL OR m.date >= o.date) THEN m.usd_per_unit
                WHEN o.date IS NOT NULL THEN o.usd_per_unit WHEN k.currency = 'USD' THEN 1.0 END AS usd_per_unit,
           CASE WHEN m.date IS NOT NULL AND (o.date IS NULL OR m.date >= o.date) THEN 'market'
                WHEN o.date IS NOT NULL THEN 'official' WHEN k.currency = 'USD' THEN 'usd' END AS rate_type,
           CASE WHEN m.date IS NOT NULL AND (o.date IS NULL OR m.date >= o.date) THEN m.date ELSE o.date END AS rate_date
    FROM (SELECT DISTINCT currency, period_date FROM dated) k
    ASOF LEFT JOIN market m ON m.currency = k.currency AND k.period_date >= m.date
    ASOF LEFT JOIN official o ON o.currency = k.currency AND k.period_date >= o.date
)
SELECT d.exporter_iso3, d.importer_iso3, d.period_date, d.frequency, d.basis, d.value, d.currency,
       CAST(d.value * r.usd_per_unit AS DECIMAL(18, 2)), r.usd_per_unit, r.rate_type, r.rate_date,
       d.source, d.file, d.row, 'real'
FROM dated d
LEFT JOIN rated_keys r USING (currency, period_date);
