-- Schemas and the quality tables every load writes to; run on each connection (idempotent).
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS quality;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS quality.quarantine (
    seed         VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,
    row_number   BIGINT  NOT NULL,
    column_name  VARCHAR,
    rule         VARCHAR NOT NULL,
    bad_value    VARCHAR,
    raw_record   JSON    NOT NULL,
    run_id       VARCHAR NOT NULL,
    loaded_at    TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE quality.quarantine IS 'Rows kept aside by the seed contracts: one row per failed rule; the latest load of each seed file.';
COMMENT ON COLUMN quality.quarantine.seed IS 'Seed the row belongs to.';
COMMENT ON COLUMN quality.quarantine.source_file IS 'File the row was read from, relative to the seeds folder.';
COMMENT ON COLUMN quality.quarantine.row_number IS 'Line of the row in its file (the header is line 1).';
COMMENT ON COLUMN quality.quarantine.column_name IS 'Column that broke the rule.';
COMMENT ON COLUMN quality.quarantine.rule IS 'Rule that failed: a type, a pandera check or a cross-seed reference.';
COMMENT ON COLUMN quality.quarantine.bad_value IS 'Value that broke the rule, as text.';
COMMENT ON COLUMN quality.quarantine.raw_record IS 'The whole row as read, all columns as text.';
COMMENT ON COLUMN quality.quarantine.run_id IS 'Dagster run that loaded the file.';
COMMENT ON COLUMN quality.quarantine.loaded_at IS 'When the run loaded the file.';

CREATE TABLE IF NOT EXISTS quality.load_audit (
    run_id            VARCHAR NOT NULL,
    seed              VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL,
    file_sha256       VARCHAR NOT NULL,
    rows_read         BIGINT  NOT NULL,
    rows_loaded       BIGINT  NOT NULL,
    rows_quarantined  BIGINT  NOT NULL,
    loaded_at         TIMESTAMPTZ NOT NULL
);
-- Added with the importers; a warehouse built before them gains the column here.
ALTER TABLE quality.load_audit ADD COLUMN IF NOT EXISTS rows_skipped BIGINT DEFAULT 0;
ALTER TABLE quality.load_audit ADD COLUMN IF NOT EXISTS skip_reasons STRUCT(reason VARCHAR, "rows" BIGINT)[];
COMMENT ON TABLE quality.load_audit IS 'Every load of every seed file, per run: rows_read = rows_loaded + rows_quarantined + rows_skipped.';
COMMENT ON COLUMN quality.load_audit.run_id IS 'Dagster run that loaded the file.';
COMMENT ON COLUMN quality.load_audit.seed IS 'Seed the file belongs to.';
COMMENT ON COLUMN quality.load_audit.source_file IS 'File, relative to the seeds folder.';
COMMENT ON COLUMN quality.load_audit.file_sha256 IS 'SHA-256 of the file bytes as read.';
COMMENT ON COLUMN quality.load_audit.rows_read IS 'Data rows in the file.';
COMMENT ON COLUMN quality.load_audit.rows_loaded IS 'Rows written to the seed''s table.';
COMMENT ON COLUMN quality.load_audit.rows_quarantined IS 'Rows kept aside in quality.quarantine (rows, not failures).';
COMMENT ON COLUMN quality.load_audit.loaded_at IS 'When the run loaded the file.';
COMMENT ON COLUMN quality.load_audit.rows_skipped IS 'Rows an importer leaves out by design, not by fault (skip_reasons says why): UN Comtrade breakdown rows and World-partner totals, which repeat the trade of the country rows; Eurostat cells with no value, CN4 headings above CN8 rows, aggregate reporters beside their member states, partners that are aggregates or no country.';
COMMENT ON COLUMN quality.load_audit.skip_reasons IS 'Each reason rows were skipped, with how many rows (they add up to rows_skipped).';
-- History stays in load_audit; the view answers "what did the last run load" without filtering by hand.
CREATE OR REPLACE VIEW quality.load_audit_latest AS
SELECT * FROM quality.load_audit WHERE run_id = (SELECT arg_max(run_id, loaded_at) FROM quality.load_audit);
COMMENT ON VIEW quality.load_audit_latest IS 'The files the latest run loaded, one row each (quality.load_audit keeps every run: do not sum it across runs).';

CREATE TABLE IF NOT EXISTS quality.publish_log (
    run_id        VARCHAR     NOT NULL,
    published_at  TIMESTAMPTZ NOT NULL,
    mart          VARCHAR     NOT NULL,
    rows          BIGINT      NOT NULL,
    checksum      VARCHAR     NOT NULL,
    inputs        VARCHAR     NOT NULL
);
COMMENT ON TABLE quality.publish_log IS 'One row per mart and publish: what was published, from which inputs. The same inputs give the same checksums.';
COMMENT ON COLUMN quality.publish_log.run_id IS 'Dagster run that published.';
COMMENT ON COLUMN quality.publish_log.published_at IS 'When the publish began.';
COMMENT ON COLUMN quality.publish_log.mart IS 'The mart, marts.<mart> and parquet/<mart>.parquet.';
COMMENT ON COLUMN quality.publish_log.rows IS 'Rows of the mart.';
COMMENT ON COLUMN quality.publish_log.checksum IS 'Sum of DuckDB''s hash() of each of the mart''s rows (free of row order; the same for the same rows under one DuckDB version).';
COMMENT ON COLUMN quality.publish_log.inputs IS 'The md5 of the path and sha256 of exactly the files the build rests on (each reference seed''s latest load, each month''s latest load, the imports of the latest full rebuild), in path order: equal inputs, equal value.';

-- A step that commits its window in pieces (core.trade_flows per batch of files, core.routed_flows per chunk
-- of months) marks a full refresh here until its last piece commits, so a killed or failed one is known:
-- refreshing a few months on top, or publishing, would pass the part-built tables off as whole.
CREATE TABLE IF NOT EXISTS quality.unfinished_refresh (
    table_name  VARCHAR NOT NULL,  -- one row per table: begin_window deletes before it inserts
    run_id      VARCHAR NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE quality.unfinished_refresh IS 'Tables whose full refresh began and has not finished: they hold only the months it committed. Empty in every published warehouse.';
COMMENT ON COLUMN quality.unfinished_refresh.table_name IS 'Table being rebuilt, schema.table.';
COMMENT ON COLUMN quality.unfinished_refresh.run_id IS 'Dagster run of the full refresh.';
COMMENT ON COLUMN quality.unfinished_refresh.started_at IS 'When the full refresh began.';

-- Runs that loaded trade flows whose flow_ids were not yet found unique (their unique_flow_ids check failed, or
-- they stopped before it): while one is here, a refresh of some months checks every flow_id against every other,
-- not only its months' against the rest, so duplicates an earlier run left are never published.
CREATE TABLE IF NOT EXISTS quality.unchecked_flow_ids (
    run_id     VARCHAR NOT NULL,
    loaded_at  TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE quality.unchecked_flow_ids IS 'Runs whose loaded trade flows have not yet passed unique_flow_ids: the next refresh of some months checks every flow_id. Empty in every published warehouse (lake mode does not use it: each run checks every flow_id).';
COMMENT ON COLUMN quality.unchecked_flow_ids.run_id IS 'Dagster run that loaded the flows.';
COMMENT ON COLUMN quality.unchecked_flow_ids.loaded_at IS 'When it committed them.';

-- What the reference tables were when each table kept by month was last rebuilt whole: a refresh of some months
-- on top of other reference rows would leave the other months on a rate, measure or rule ref no longer holds,
-- so such a refresh rebuilds the whole table instead (settle_window in warehouse.py).
CREATE TABLE IF NOT EXISTS quality.window_basis (
    table_name  VARCHAR NOT NULL,  -- one row per table
    ref_inputs  VARCHAR NOT NULL,
    run_id      VARCHAR NOT NULL,
    built_at    TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE quality.window_basis IS 'Per table kept by month, the reference inputs of its last full rebuild: a refresh of some months under other reference inputs rebuilds every month.';
COMMENT ON COLUMN quality.window_basis.table_name IS 'Partitioned table, schema.table.';
COMMENT ON COLUMN quality.window_basis.ref_inputs IS 'The md5 of the path and sha256 of every reference seed file its full rebuild read (quality.load_audit).';
COMMENT ON COLUMN quality.window_basis.run_id IS 'Dagster run of that full rebuild.';
COMMENT ON COLUMN quality.window_basis.built_at IS 'When that full rebuild began.';
