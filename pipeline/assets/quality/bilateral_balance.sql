-- marts.bilateral_balance with audit columns: each direction's yearly total beside the same total
-- of canonical flows in core.trade_flows.
WITH core_years AS (
    SELECT year(period) AS year, exporter_iso3, importer_iso3, sum(value_usd) AS core_total
    FROM core.trade_flows WHERE canonical GROUP BY ALL
)
SELECT m.*,
       sum(m.value_usd) FILTER (WHERE m.category_id <> '*') OVER (PARTITION BY m.year, m.exporter_iso3, m.importer_iso3)::DOUBLE AS mart_total,
       c.core_total::DOUBLE AS core_total
FROM marts.bilateral_balance m
LEFT JOIN core_years c USING (year, exporter_iso3, importer_iso3)
