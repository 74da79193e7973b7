-- What every row the quarantine keeps aside takes out of the trade or changes in it, in USD, one row per
-- (kept-aside row, flow it moves). A trade-flow row moves its own value (flow_id NULL): read from its raw
-- record in whichever layout it came (a seed file's value and currency at the latest rate on or before its
-- month, BACI's v in thousands of USD, Comtrade's primaryValue, Comext's value in euros); a value that
-- cannot be read, or is not a finite amount below 1e15, is NULL and `unreadable`: the guard counts such a
-- row by its share of the trade-flow rows read, so a run that loses rows loses their share whatever the cents. A reference row moves the flows whose result it
-- changes: an FX row the flows of its currency in its month (its year, for annual flows); a measure the flows
-- it would cover (its target country, and HS prefixes where it names goods); an allocation rule the flows of
-- its key and period left without an observed route or channel; a code, category, corridor, channel, country
-- or list row the flows that carry it; a missing or late FX row also shows as flows at a stale rate. A key that cannot be read (a date, a code that is not digits) matches
-- every flow, as its row might have.
CREATE OR REPLACE TEMP TABLE kept_aside_effect AS
WITH kept AS (
    SELECT DISTINCT seed, source_file, row_number, raw_record FROM quality.quarantine
), rates AS (
    SELECT currency, date, max(usd_per_unit) AS usd_per_unit FROM ref.fx_rates GROUP BY ALL
), trade_fields AS (  -- a list of paths parses each record once
    SELECT source_file, row_number,
           json_extract_string(raw_record, ['$.value', '$.v', '$.primaryValue', '$.indicator', '$.currency',
                                            '$.period', '$.t']) AS field
    FROM kept WHERE seed = 'trade_flows'
), trade_rows AS (
    SELECT source_file, row_number,
           coalesce(try_cast(field[1] AS DOUBLE), try_cast(field[2] AS DOUBLE) * 1000, try_cast(field[3] AS DOUBLE)) AS amount,
           CASE WHEN field[2] IS NOT NULL OR field[3] IS NOT NULL THEN 'USD'
                WHEN field[4] IS NOT NULL THEN 'EUR'
                ELSE upper(trim(field[5])) END AS currency,
           coalesce(field[6], field[7]) AS period_text
    FROM trade_fields
), trade_dated AS (
    SELECT *, try_cast(regexp_extract(period_text, '(\d{4})', 1) || '-'
                       || coalesce(nullif(regexp_extract(period_text, '^\s*\d{4}-?(\d{2})', 1), ''), '01') || '-01' AS DATE) AS period
    FROM trade_rows
), trade_valued AS (
    SELECT t.source_file, t.row_number,
           t.amount * CASE WHEN t.currency = 'USD' THEN 1 ELSE r.usd_per_unit END AS value_usd
    FROM trade_dated t ASOF LEFT JOIN rates r ON t.currency = r.currency AND t.period >= r.date
), reference AS (
    SELECT seed, source_file, row_number,
           json_extract_string(raw_record, '$.currency') AS currency,
           try_cast(json_extract_string(raw_record, '$.date') AS DATE) AS rate_date,
           coalesce(json_extract_string(raw_record, '$.target_country'), json_extract_string(raw_record, '$.target_iso3'),
                    json_extract_string(raw_record, '$.country_iso3')) AS country,
           json_extract_string(raw_record, '$.neighbour_iso3') AS neighbour,
           CASE WHEN json_extract_string(raw_record, '$.target_type') IN ('hs_code', 'hs_prefix')
                THEN string_split(json_extract_string(raw_record, '$.target'), '|') END AS hs_targets,
           nullif(regexp_extract(coalesce(json_extract_string(raw_record, '$.hs_prefix'), json_extract_string(raw_record, '$.hs2022'),
                                          json_extract_string(raw_record, '$.hs6')), '^\s*(\d{2,6})\s*$', 1), '') AS hs2022,
           nullif(regexp_extract(coalesce(json_extract_string(raw_record, '$.hs2017'), json_extract_string(raw_record, '$.Code')),
                                 '^\s*(\d{2,6})\s*$', 1), '') AS hs2017,
           json_extract_string(raw_record, '$.category_id') AS category_id,
           json_extract_string(raw_record, '$.corridor_id') AS corridor_id,
           json_extract_string(raw_record, '$.channel_id') AS channel_id,
           json_extract_string(raw_record, '$.dimension') AS dimension,
           coalesce(json_extract_string(raw_record, '$.exporter_iso3'), '*') AS rule_exporter,
           coalesce(json_extract_string(raw_record, '$.importer_iso3'), '*') AS rule_importer,
           coalesce(json_extract_string(raw_record, '$.category_id'), '*') AS rule_category,
           try_cast(json_extract_string(raw_record, '$.valid_from') AS DATE) AS valid_from,
           try_cast(json_extract_string(raw_record, '$.valid_to') AS DATE) AS valid_to
    FROM kept WHERE seed NOT IN ('trade_flows', 'claims')
), moved AS (
    SELECT q.seed, q.source_file, q.row_number, f.flow_id, f.value_usd
    FROM reference q JOIN core.trade_flows f ON CASE q.seed
        WHEN 'fx_rates' THEN (q.currency IS NULL OR f.currency = q.currency)
            AND (q.rate_date IS NULL OR (year(f.period) = year(q.rate_date)
                 AND (f.frequency = 'annual' OR month(f.period) = month(q.rate_date))))
        WHEN 'sanctions_measures' THEN (q.country IS NULL OR q.country IN (f.exporter_iso3, f.importer_iso3))
            AND (q.hs_targets IS NULL OR list_bool_or([starts_with(f.hs_code_2022, h) OR starts_with(f.hs_code_2017, h)
                                                        FOR h IN q.hs_targets]))
        WHEN 'eu_hs6_list' THEN f.importer_iso3 = 'RUS' AND (q.hs2017 IS NULL OR f.hs_code_2017 = q.hs2017)
        WHEN 'allocation_rules' THEN
            ((f.channel_id IS NULL AND q.dimension IS DISTINCT FROM 'corridor')
             OR (f.corridor_id IS NULL AND q.dimension IS DISTINCT FROM 'channel'))
            AND q.rule_exporter IN (f.exporter_iso3, '*') AND q.rule_importer IN (f.importer_iso3, '*')
            AND q.rule_category IN (coalesce(f.category_id, ''), '*')
            AND (q.valid_from IS NULL OR f.period >= q.valid_from) AND (q.valid_to IS NULL OR f.period < q.valid_to)
        WHEN 'hs_categories' THEN q.hs2022 IS NULL OR starts_with(f.hs_code_2022, q.hs2022)
        WHEN 'chpl' THEN q.hs2022 IS NULL OR f.hs_code_2022 = q.hs2022
        WHEN 'hs_concordance' THEN (q.hs2022 IS NULL AND q.hs2017 IS NULL) OR f.hs_code_2022 = q.hs2022 OR f.hs_code_2017 = q.hs2017
        WHEN 'hs_conversion' THEN (q.hs2022 IS NULL AND q.hs2017 IS NULL) OR f.hs_code_2022 = q.hs2022 OR f.hs_code_2017 = q.hs2017
        WHEN 'goods_categories' THEN q.category_id IS NULL OR f.category_id = q.category_id
        WHEN 'neighbours' THEN q.neighbour IS NULL OR q.neighbour IN (f.exporter_iso3, f.importer_iso3)
        WHEN 'jurisdictions' THEN q.country IS NULL OR q.country IN (f.exporter_iso3, f.importer_iso3, f.transit_iso3)
        WHEN 'corridors' THEN q.corridor_id IS NULL OR f.corridor_id = q.corridor_id
        WHEN 'corridor_legs' THEN q.corridor_id IS NULL OR f.corridor_id = q.corridor_id
        WHEN 'payment_channels' THEN q.channel_id IS NULL OR f.channel_id = q.channel_id
        ELSE false END
    UNION  -- a corridor or channel also moves the flows routing allocated to it (only the routed rows of a
           -- corridor or channel kept aside are read: reading every routed row cost 1.5 s at 10M flows)
    SELECT q.seed, q.source_file, q.row_number, f.flow_id, f.value_usd
    FROM reference q
    JOIN (SELECT DISTINCT flow_id, corridor_id, channel_id FROM core.routed_flows
          WHERE corridor_id IN (SELECT corridor_id FROM reference WHERE seed IN ('corridors', 'corridor_legs'))
             OR channel_id IN (SELECT channel_id FROM reference WHERE seed = 'payment_channels')) r
      ON (q.seed IN ('corridors', 'corridor_legs') AND r.corridor_id = q.corridor_id)
      OR (q.seed = 'payment_channels' AND r.channel_id = q.channel_id)
    JOIN core.trade_flows f ON f.flow_id = r.flow_id
)
SELECT 'trade_flows' AS seed, t.source_file, t.row_number, NULL::VARCHAR AS flow_id,
       CASE WHEN isfinite(t.value_usd) AND t.value_usd >= 0 AND t.value_usd < 1e15 THEN t.value_usd END::DOUBLE AS value_usd,
       coalesce(NOT (isfinite(t.value_usd) AND t.value_usd >= 0 AND t.value_usd < 1e15), true) AS unreadable
FROM trade_valued t
UNION ALL
SELECT seed, source_file, row_number, flow_id, value_usd::DOUBLE, false FROM moved
UNION ALL  -- a flow converted at a stale or fallback rate moves its value, named by currency and month
SELECT 'fx_rates (stale or fallback rate)', currency || ' ' || strftime(period, '%Y-%m'), 0, flow_id, value_usd::DOUBLE, false
FROM core.trade_flows WHERE fx_rate_stale
UNION ALL  -- rows that move no flow (a claim, a code no flow carries) are still counted as rows
SELECT q.seed, q.source_file, q.row_number, NULL, 0, false FROM kept q
WHERE q.seed <> 'trade_flows' AND NOT EXISTS (
    SELECT 1 FROM moved m WHERE m.seed = q.seed AND m.source_file = q.source_file AND m.row_number = q.row_number
);

-- Which kept-aside row each kept-aside row follows from: a row that references a row kept aside says so in its
-- rule ("references ref.corridors.corridor_id: its row was kept aside, corridors.csv row 3 (…)"), followed back to
-- the first row of the chain (a category kept aside takes its HS prefixes with it, and they their flows), so the
-- row that caused it is valued at everything it took with it.
CREATE OR REPLACE TEMP TABLE kept_aside_cause AS
WITH RECURSIVE direct AS (
    SELECT DISTINCT seed, source_file, row_number,
           regexp_extract(rule, '^references ref\.(\w+)\.', 1) AS cause_seed,
           regexp_extract(rule, 'its row was kept aside, (.*?) row (\d+) \(', 1) AS cause_file,
           try_cast(regexp_extract(rule, 'its row was kept aside, (.*?) row (\d+) \(', 2) AS BIGINT) AS cause_row
    FROM quality.quarantine WHERE rule LIKE 'references ref.%: its row was kept aside, %'
), chain(seed, source_file, row_number, cause_seed, cause_file, cause_row) AS (
    SELECT * FROM direct
    UNION
    SELECT c.seed, c.source_file, c.row_number, d.cause_seed, d.cause_file, d.cause_row
    FROM chain c JOIN direct d ON d.seed = c.cause_seed AND d.source_file = c.cause_file AND d.row_number = c.cause_row
)
SELECT * FROM chain;
