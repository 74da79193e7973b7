-- Flows of core.trade_flows that could not be converted to USD or put in a goods category.
SELECT count(*) FILTER (WHERE value_usd IS NULL) AS without_usd,
       count(*) FILTER (WHERE category_id IS NULL) AS without_category,
       count(*) AS flows
FROM core.trade_flows
