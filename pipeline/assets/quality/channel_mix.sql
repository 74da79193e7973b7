-- marts.channel_mix with audit columns: the total of shares per month and pair, and the month's
-- total in the mart beside the same total in core.trade_flows.
WITH core_months AS (
    SELECT period AS month, exporter_iso3, importer_iso3, sum(value_usd) AS core_total
    FROM core.trade_flows GROUP BY ALL
)
SELECT m.*,
       sum(m.share_of_month) OVER (PARTITION BY m.month, m.exporter_iso3, m.importer_iso3) AS month_share_total,
       sum(m.value_usd) OVER (PARTITION BY m.month, m.exporter_iso3, m.importer_iso3)::DOUBLE AS mart_total,
       c.core_total::DOUBLE AS core_total
FROM marts.channel_mix m
LEFT JOIN core_months c USING (month, exporter_iso3, importer_iso3)
