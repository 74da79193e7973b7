-- marts.roundabout, one row per window: what its rows add up to (every product group and exporter) against
-- the canonical flows to the target and its neighbours in the window's periods, straight from core.trade_flows.
-- A flow lost or counted twice between product groups makes the two differ; summing in another order moves
-- a double's last digits only (IRR values reach 10^14), hence a relative error.
WITH windows AS (
    SELECT data_status, frequency, target_iso3, currency, before_start, before_end, after_start, after_end,
           sum(before_value + after_value) AS mart_total, count(*) AS mart_rows
    FROM marts.roundabout GROUP BY ALL
), destinations AS (
    SELECT DISTINCT target_iso3, target_iso3 AS importer_iso3 FROM ref.neighbours
    UNION ALL SELECT target_iso3, neighbour_iso3 FROM ref.neighbours
), flows AS (
    SELECT w.data_status, w.frequency, w.target_iso3, w.currency, w.after_start, sum(f.value) AS core_total
    FROM windows w
    JOIN destinations d USING (target_iso3)
    JOIN core.trade_flows f ON f.importer_iso3 = d.importer_iso3 AND f.canonical AND f.data_status = w.data_status
     AND f.frequency = w.frequency AND f.currency = w.currency AND f.exporter_iso3 <> w.target_iso3
     AND (f.period BETWEEN w.before_start AND w.before_end OR f.period BETWEEN w.after_start AND w.after_end)
    GROUP BY ALL
)
SELECT w.*, coalesce(f.core_total, 0) AS core_total,
       abs(w.mart_total - coalesce(f.core_total, 0)) / greatest(abs(f.core_total), 1) AS relative_error
FROM windows w LEFT JOIN flows f USING (data_status, frequency, target_iso3, currency, after_start)
