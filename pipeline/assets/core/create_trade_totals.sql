-- core.trade_totals: total goods between two countries (or a bloc and a country) per month or year, as the
-- source reports it (Eurostat Comext's TOTAL product). Kept apart from core.trade_flows: a total is the sum
-- of every product flow of the pair, so adding it to product rows would count the trade twice.
-- Rebuilt whole on full runs, like the imported files it comes from.
CREATE TABLE IF NOT EXISTS core.trade_totals (
    exporter_iso3   VARCHAR NOT NULL,
    importer_iso3   VARCHAR NOT NULL,
    period          DATE    NOT NULL,
    frequency       VARCHAR NOT NULL,
    basis           VARCHAR NOT NULL,
    value           DOUBLE  NOT NULL,
    currency        VARCHAR NOT NULL,
    value_usd       DECIMAL(18, 2),
    fx_usd_per_unit DOUBLE,
    fx_rate_type    VARCHAR,
    fx_rate_date    DATE,
    source          VARCHAR NOT NULL,
    file            VARCHAR NOT NULL,
    row             BIGINT  NOT NULL,
    data_status     VARCHAR NOT NULL
);
