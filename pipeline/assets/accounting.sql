-- Accounting identity of one seed load, per file: what the audit says against what the tables hold.
-- {table} is the seed's target table (a constant of the code); values are bound.
WITH in_table AS (
    SELECT source_file, count(*) AS n FROM {table} GROUP BY ALL
), kept_aside AS (
    SELECT source_file, count(DISTINCT row_number) AS n
    FROM quality.quarantine WHERE seed = $seed GROUP BY ALL
)
SELECT a.source_file,
       a.rows_read,
       a.rows_loaded,
       a.rows_quarantined,
       a.rows_skipped,
       coalesce(t.n, 0) AS rows_in_table,
       coalesce(k.n, 0) AS rows_in_quarantine,
       a.rows_read = a.rows_loaded + a.rows_quarantined + a.rows_skipped
           AND a.rows_loaded = coalesce(t.n, 0)
           AND a.rows_quarantined = coalesce(k.n, 0) AS balanced
FROM quality.load_audit a
LEFT JOIN in_table t USING (source_file)
LEFT JOIN kept_aside k USING (source_file)
WHERE a.run_id = $run_id AND a.seed = $seed
ORDER BY a.source_file
