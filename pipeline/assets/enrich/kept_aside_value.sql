-- How much value the quarantine takes out of the trade or moves: flows kept aside (valued from their
-- raw record at the latest rate on or before their month; a value or currency that does not parse
-- counts as nothing) and flows whose allocation rules lost a row to the quarantine (their key is
-- kept aside whole, so they fall to a broader rule or stay unallocated), against all value read.
WITH kept_flows AS (
    SELECT DISTINCT source_file, row_number,
           abs(try_cast(json_extract_string(raw_record, '$.value') AS DOUBLE)) AS value,
           upper(trim(json_extract_string(raw_record, '$.currency'))) AS currency,
           try_cast(left(trim(json_extract_string(raw_record, '$.period')), 7) || '-01' AS DATE) AS period
    FROM quality.quarantine WHERE seed = 'trade_flows'
), rates AS (
    SELECT currency, date, max(usd_per_unit) AS usd_per_unit FROM ref.fx_rates GROUP BY ALL
), kept AS (
    SELECT coalesce(sum(k.value * CASE WHEN k.currency = 'USD' THEN 1 ELSE r.usd_per_unit END), 0) AS usd
    FROM kept_flows k ASOF LEFT JOIN rates r ON k.currency = r.currency AND k.period >= r.date
), kept_rules AS (
    SELECT DISTINCT json_extract_string(raw_record, '$.dimension') AS dimension,
           coalesce(json_extract_string(raw_record, '$.exporter_iso3'), '*') AS exporter_iso3,
           coalesce(json_extract_string(raw_record, '$.importer_iso3'), '*') AS importer_iso3,
           coalesce(json_extract_string(raw_record, '$.category_id'), '*') AS category_id,
           try_cast(json_extract_string(raw_record, '$.valid_from') AS DATE) AS valid_from,
           try_cast(json_extract_string(raw_record, '$.valid_to') AS DATE) AS valid_to
    FROM quality.quarantine WHERE seed = 'allocation_rules'
), moved AS (
    SELECT coalesce(sum(f.value_usd), 0) AS usd
    FROM core.trade_flows f
    WHERE EXISTS (
        SELECT 1 FROM kept_rules q
        WHERE ((f.channel_id IS NULL AND q.dimension IS DISTINCT FROM 'corridor')
               OR (f.corridor_id IS NULL AND q.dimension IS DISTINCT FROM 'channel'))
          AND q.exporter_iso3 IN (f.exporter_iso3, '*') AND q.importer_iso3 IN (f.importer_iso3, '*')
          AND q.category_id IN (coalesce(f.category_id, ''), '*')
          AND (q.valid_from IS NULL OR f.period >= q.valid_from) AND (q.valid_to IS NULL OR f.period < q.valid_to)
    )
)
SELECT kept.usd::DOUBLE AS kept_usd, moved.usd::DOUBLE AS moved_usd,
       (kept.usd + (SELECT coalesce(sum(value_usd), 0) FROM core.trade_flows))::DOUBLE AS read_usd
FROM kept, moved;
