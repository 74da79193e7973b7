-- Total-goods rows of the imported files (`incoming_totals`, registered by the asset) → core.trade_totals,
-- converted to US dollars by the rule of rates.sql (rated_keys, made just before from the same rows), as
-- core.trade_flows is.
INSERT INTO core.trade_totals (
    exporter_iso3, importer_iso3, period, frequency, basis, value, currency, value_usd, fx_usd_per_unit,
    fx_rate_type, fx_rate_date, source, file, row, data_status
)
WITH dated AS (
    SELECT *, CASE WHEN length(period) = 4 THEN 'annual' ELSE 'monthly' END AS frequency,
           strptime(CASE WHEN length(period) = 4 THEN period || '-01-01' ELSE period || '-01' END, '%Y-%m-%d')::DATE AS period_date
    FROM incoming_totals
)
SELECT d.exporter_iso3, d.importer_iso3, d.period_date, d.frequency, d.basis, d.value, d.currency,
       CAST(d.value * r.usd_per_unit AS DECIMAL(18, 2)), r.usd_per_unit, r.rate_type, r.rate_date,
       d.source, d.file, d.row, 'real'
FROM dated d
LEFT JOIN rated_keys r USING (currency, period_date, frequency);
