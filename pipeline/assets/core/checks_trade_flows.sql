-- Flows of core.trade_flows that could not be converted to USD, flows of the illustrative sample in no
-- goods category (real imports cover every HS code, most outside the categories), and flows converted at a
-- stale or fallback rate (fx_rate_stale). flow_ids loaded more than once: POSSIBLE_DUPLICATES_SQL in core.py.
SELECT count(*) FILTER (WHERE value_usd IS NULL) AS without_usd,
       count(*) FILTER (WHERE category_id IS NULL AND data_status = 'illustrative') AS without_category,
       count(*) AS flows,
       count(*) FILTER (WHERE fx_rate_stale) AS stale_flows,
       coalesce(sum(value_usd) FILTER (WHERE fx_rate_stale), 0)::DOUBLE AS stale_usd,
       string_agg(DISTINCT currency || ' ' || strftime(period, '%Y-%m'), ', ' ORDER BY currency || ' ' || strftime(period, '%Y-%m'))
           FILTER (WHERE fx_rate_stale) AS stale_months
FROM core.trade_flows
