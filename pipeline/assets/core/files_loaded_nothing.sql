-- The files this run read that gave no flow although rows were kept aside (every row refused, e.g. a country
-- code the release's dictionary lacks), with the commonest reason. Rows skipped by design (another window,
-- HS codes outside the rule, aggregates) do not count: those files were read as intended.
WITH refused AS (
    SELECT source_file, rows_read, rows_quarantined
    FROM quality.load_audit
    WHERE run_id = $run_id AND seed = 'trade_flows' AND rows_loaded = 0 AND rows_quarantined > 0
), reasons AS (
    SELECT q.source_file, q.column_name, q.rule, count(DISTINCT q.row_number) AS rows
    FROM quality.quarantine q JOIN refused USING (source_file)
    WHERE q.seed = 'trade_flows' AND q.run_id = $run_id
    GROUP BY ALL
)
SELECT r.source_file, r.rows_read, r.rows_quarantined, arg_max(s.column_name, s.rows), arg_max(s.rule, s.rows)
FROM refused r LEFT JOIN reasons s USING (source_file)
GROUP BY ALL ORDER BY r.source_file
