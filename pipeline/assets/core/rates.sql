-- The USD rate of every (currency, period, frequency) of `rate_source` (a view of the rows to convert, made by
-- the asset: their currency and period text) → TEMP TABLE rated_keys. One rule for every table that converts
-- (core.trade_flows, core.trade_totals):
--   the rate in force for the flow's month and currency (ASOF join: the latest rate dated on or before the
--   period). Where a market rate of that date exists it is preferred over the official one: Iran's official
--   rial rate was a subsidised rate an order of magnitude off. An annual flow is twelve months of trade:
--   where its currency has all 12 monthly rates of the year in the chosen type, it is converted at their mean
--   (rate_date the year's first day), else by the same ASOF rule at its year's first day;
--   rate_type: market, official or usd, with the suffix _approximate where the rate (or one of the 12
--   averaged) is flagged approximate in ref.fx_rates (no shipped source publishes it);
--   alt_usd_per_unit, alt_rate_type: the other rate type, where the currency has one of the same date taken
--   the same way (IRR until April 2022), so marts can show how much the choice of rate moves a figure.
--   stale: the rate is a fallback the flow should not silently rest on: dated more than a week before the
--   period's first day (the currency's series ends before the period, or skips it), or official where the
--   currency's market series spans the period (its market row for the period is missing or was kept aside).
--   A value already in US dollars is never stale.
-- Rated once per key, then joined to the rows: an ASOF join sorts its input.
CREATE OR REPLACE TEMP TABLE rated_keys AS
WITH keys AS (
    SELECT DISTINCT currency, CASE WHEN length(period) = 4 THEN 'annual' ELSE 'monthly' END AS frequency,
           strptime(CASE WHEN length(period) = 4 THEN period || '-01-01' ELSE period || '-01' END, '%Y-%m-%d')::DATE AS period_date
    FROM rate_source
), market AS (
    SELECT currency, date, usd_per_unit, approximate FROM ref.fx_rates WHERE rate_type = 'market'
), official AS (
    SELECT currency, date, usd_per_unit, approximate FROM ref.fx_rates WHERE rate_type = 'official'
), yearly_market AS (  -- a year's mean, where all 12 monthly rates (dated the 1st) of the type exist
    SELECT currency, date_trunc('year', date)::DATE AS year, avg(usd_per_unit) AS usd_per_unit, bool_or(approximate) AS approximate
    FROM market WHERE date = date_trunc('month', date) GROUP BY ALL HAVING count(*) = 12
), yearly_official AS (
    SELECT currency, date_trunc('year', date)::DATE AS year, avg(usd_per_unit) AS usd_per_unit, bool_or(approximate) AS approximate
    FROM official WHERE date = date_trunc('month', date) GROUP BY ALL HAVING count(*) = 12
), rates_of_keys AS (  -- each type's rate: the year's mean for an annual flow where it exists, else the latest.
    SELECT k.currency, k.period_date, k.frequency,
           coalesce(ym.usd_per_unit, m.usd_per_unit) AS market_usd, CASE WHEN ym.year IS NULL THEN m.date ELSE ym.year END AS market_date,
           CASE WHEN coalesce(ym.approximate, m.approximate) THEN 'market_approximate' ELSE 'market' END AS market_type,
           ym.year IS NOT NULL AS market_mean,
           coalesce(yo.usd_per_unit, o.usd_per_unit) AS official_usd, CASE WHEN yo.year IS NULL THEN o.date ELSE yo.year END AS official_date,
           CASE WHEN coalesce(yo.approximate, o.approximate) THEN 'official_approximate' ELSE 'official' END AS official_type,
           yo.year IS NOT NULL AS official_mean
    FROM keys k
    ASOF LEFT JOIN market m ON m.currency = k.currency AND k.period_date >= m.date
    ASOF LEFT JOIN official o ON o.currency = k.currency AND k.period_date >= o.date
    -- the frequency test inside the key keeps these equi-joins
    LEFT JOIN yearly_market ym ON ym.currency = k.currency AND ym.year = CASE WHEN k.frequency = 'annual' THEN k.period_date END
    LEFT JOIN yearly_official yo ON yo.currency = k.currency AND yo.year = CASE WHEN k.frequency = 'annual' THEN k.period_date END
), market_span AS (
    SELECT currency, min(date) AS first_date, max(date) AS last_date FROM market GROUP BY currency
), judged AS (  -- the latest rate wins; a market rate wins over an official one of the same date
    SELECT r.*, market_date IS NOT NULL AND (official_date IS NULL OR market_date >= official_date) AS use_market,
           s.first_date <= r.period_date AND r.period_date <= s.last_date AS market_spans_period
    FROM rates_of_keys r LEFT JOIN market_span s USING (currency)
), chosen AS (
    SELECT currency, period_date, frequency,
           -- a value already in US dollars needs no FX row (imported files: Comtrade, BACI)
           CASE WHEN use_market THEN market_usd WHEN official_date IS NOT NULL THEN official_usd
                WHEN currency = 'USD' THEN 1.0 END AS usd_per_unit,
           CASE WHEN use_market THEN market_type WHEN official_date IS NOT NULL THEN official_type
                WHEN currency = 'USD' THEN 'usd' END AS rate_type,
           CASE WHEN use_market THEN market_date ELSE official_date END AS rate_date,
           currency <> 'USD' AND (rate_date < period_date - INTERVAL 7 DAY OR (coalesce(market_spans_period, false) AND NOT use_market))
               AS stale,
           market_date = official_date AND market_mean = official_mean AS has_alt,
           CASE WHEN has_alt THEN CASE WHEN use_market THEN official_usd ELSE market_usd END END AS alt_usd_per_unit,
           CASE WHEN has_alt THEN CASE WHEN use_market THEN official_type ELSE market_type END END AS alt_rate_type
    FROM judged
)
SELECT * EXCLUDE (has_alt) FROM chosen;
