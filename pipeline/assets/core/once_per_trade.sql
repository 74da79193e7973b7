-- The same trade in two downloads is one trade: per importer kind (the flow_id's prefix: baci, comtrade,
-- comext) and (period, frequency, exporter, importer, HS code and edition, basis, flow kind), an imported
-- flow is kept from one file only: the newest release (BACI's `source` names it, V202501 after V202401), then
-- the file whose name sorts last. The others are taken out here and counted as skipped in their file's audit
-- row, with the reason. Seed files are the user's own records, where two shipments may share a key: never here.
CREATE OR REPLACE TEMP TABLE superseded AS
SELECT flow_id, source_file, winner_file
FROM (
    SELECT flow_id, source_file,
           first_value(source_file) OVER keyed AS winner_file,
           row_number() OVER keyed AS copy
    FROM core.trade_flows
    WHERE split_part(flow_id, ':', 1) IN ('baci', 'comtrade', 'comext')
    WINDOW keyed AS (
        PARTITION BY split_part(flow_id, ':', 1), period, frequency, exporter_iso3, importer_iso3, hs_code, hs_edition,
                     basis, flow_kind
        ORDER BY source DESC, source_file DESC, flow_id
    )
)
WHERE copy > 1;

DELETE FROM core.trade_flows WHERE flow_id IN (SELECT flow_id FROM superseded);

UPDATE quality.load_audit a
SET rows_loaded = a.rows_loaded - s.rows,
    rows_skipped = a.rows_skipped + s.rows,
    skip_reasons = list_append(a.skip_reasons, {'reason': 'the same trade is loaded from ' || s.winner_file
                                                          || ' (a newer release, or the file that sorts last)',
                                                'rows': s.rows})
FROM (SELECT source_file, winner_file, count(*) AS rows FROM superseded GROUP BY ALL) s
WHERE a.run_id = $run_id AND a.seed = 'trade_flows' AND a.source_file = s.source_file;
