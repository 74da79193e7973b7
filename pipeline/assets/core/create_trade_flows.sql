-- core.trade_flows: one row per valid input flow. The seed columns' comments come from the
-- trade_flows contract; the columns derived here are described in core.py.
-- No PRIMARY KEY on the big tables: DuckDB keeps an index that makes window deletes slow;
-- uniqueness is checked by the contracts, the SQL audits and the GE suites instead.
CREATE TABLE IF NOT EXISTS core.trade_flows (
    flow_id          VARCHAR NOT NULL,
    period           DATE    NOT NULL,
    exporter_iso3    VARCHAR NOT NULL,
    importer_iso3    VARCHAR NOT NULL,
    hs_code          VARCHAR NOT NULL,
    hs_edition       VARCHAR NOT NULL,
    value            DOUBLE  NOT NULL,
    currency         VARCHAR NOT NULL,
    quantity_kg      DOUBLE,
    quantity_units   DOUBLE,
    corridor_id      VARCHAR,
    channel_id       VARCHAR,
    transit_iso3     VARCHAR,
    source           VARCHAR NOT NULL,
    basis            VARCHAR NOT NULL,
    flow_kind        VARCHAR,
    exporter_name   VARCHAR,
    importer_name   VARCHAR,
    vessel_imo       VARCHAR,
    frequency        VARCHAR NOT NULL,
    period_end       DATE    NOT NULL,
    data_status      VARCHAR NOT NULL,
    hs_code_2022     VARCHAR NOT NULL,
    hs_match         VARCHAR NOT NULL,
    hs_code_2017     VARCHAR,
    canonical        BOOLEAN,
    category_id      VARCHAR,
    value_usd        DECIMAL(18, 2),
    unit_value_eur   DOUBLE,
    fx_usd_per_unit  DOUBLE,
    fx_rate_type     VARCHAR,
    fx_rate_date     DATE,
    fx_rate_stale    BOOLEAN,
    value_usd_alt_rate DECIMAL(18, 2),
    fx_alt_rate_type VARCHAR,
    source_file      VARCHAR NOT NULL,
    row_number       BIGINT  NOT NULL,
    file_sha256      VARCHAR NOT NULL,
    run_id           VARCHAR NOT NULL
);
-- A run rewrites the months of its window only (a one-month run: the rows of the seed files, as imported
-- files are read by full runs); canonical is set once every file of the window is in
-- (canonical_trade_flows.sql), as mirror reports of one trade may come from different files.
DELETE FROM core.trade_flows
WHERE period >= $window_start AND period < $window_end AND ($full_window OR starts_with(source_file, $seed_folder));
-- Real and illustrative rows are different worlds: a view each makes the safe query the easy one.
CREATE OR REPLACE VIEW core.trade_flows_real AS SELECT * FROM core.trade_flows WHERE data_status = 'real';
COMMENT ON VIEW core.trade_flows_real IS 'core.trade_flows, real rows only (downloaded or user-written files): sum these, never with the illustrative sample.';
CREATE OR REPLACE VIEW core.trade_flows_illustrative AS SELECT * FROM core.trade_flows WHERE data_status = 'illustrative';
COMMENT ON VIEW core.trade_flows_illustrative IS 'core.trade_flows, the shipped illustrative sample only (pipeline/sample_flows.py, not real customs data): never add it to real rows.';
