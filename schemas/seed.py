"""What a seed is: its file(s), its pandera contract, and the other seeds its columns reference."""

from dataclasses import dataclass
from functools import cached_property

import pandera.polars as pa
import polars as pl


@dataclass(frozen=True)
class Ref:
    """A cross-seed reference: the column's values must exist in `seed.column`.

    `when` limits it to rows where another column has a given value; `wildcard` is a value that
    matches anything and is not looked up.
    """

    seed: str
    column: str
    when: tuple[str, str] | None = None
    wildcard: str | None = None

    @property
    def rule(self) -> str:
        condition = f" when {self.when[0]}={self.when[1]}" if self.when else ""
        return f"references ref.{self.seed}.{self.column}{condition}"


def references(*refs: Ref) -> dict:
    """Field metadata declaring cross-seed references."""
    return {"references": refs}


@dataclass(frozen=True)
class Seed:
    name: str
    contract: type[pa.DataFrameModel]
    path: str  # relative to the seeds folder; a folder means every *.csv in it
    description: str
    # Row-level (multi-column) checks of the contract, by name, and the column a quarantine row names.
    row_check_columns: tuple[tuple[str, str], ...] = ()
    # Columns a file may leave out (read as empty), so files written before they existed still load.
    optional_columns: tuple[str, ...] = ()
    # Checks over a key's rows (shares summing to 1), with the key's columns: rerun once bad rows are kept aside.
    key_checks: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Columns a file writes as '|'-separated text (CSV has no lists) and the ref table holds as a LIST.
    list_columns: tuple[str, ...] = ()
    # Columns the ref table adds to each row: (name, DuckDB type, SQL over the row's columns, description).
    derived_columns: tuple[tuple[str, str, str, str], ...] = ()

    @cached_property
    def schema(self) -> pa.DataFrameSchema:
        return self.contract.to_schema()

    @property
    def columns(self) -> list[str]:
        return list(self.schema.columns)

    @property
    def required_columns(self) -> list[str]:
        """The columns every file must have."""
        return [c for c in self.columns if c not in self.optional_columns]

    @property
    def dtypes(self) -> dict[str, pl.DataType]:
        return {name: col.dtype.type for name, col in self.schema.columns.items()}

    @property
    def references(self) -> dict[str, tuple[Ref, ...]]:
        return {
            name: (col.metadata or {}).get("references", ())
            for name, col in self.schema.columns.items()
            if (col.metadata or {}).get("references")
        }

    @property
    def upstream(self) -> list[str]:
        return sorted({ref.seed for refs in self.references.values() for ref in refs})

    @property
    def key_columns(self) -> list[list[str]]:
        """Each key of the seed: a column declared unique, or the contract's compound unique key."""
        keys = [[name] for name, col in self.schema.columns.items() if col.unique]
        if self.schema.unique:
            keys.append(list(self.schema.unique))
        return keys

    def column_for_check(self, check: str) -> str | None:
        return dict(self.row_check_columns).get(check)
