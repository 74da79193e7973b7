"""Edit seed CSV files in a test's private copy of the seeds."""

import csv
from pathlib import Path


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Set `column` of data row `row` (0-based; that is line row + 2 of the file)."""
    header, rows = read_rows(path)
    rows[row][column] = value
    write_rows(path, header, rows)
