"""Where the data path's tables live: the embedded DuckDB warehouse and its atomic publish (warehouse.py,
warehouse.sql), the DuckLake catalog of team mode (lake.py) with its local PostgreSQL (local_postgres.py),
and Dagster's SQLite run history held open for a run (sqlite_history.py)."""
