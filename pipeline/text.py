"""Data text as people see it: control characters and bidi overrides made visible, so that what a
cell or label shows is what it holds (a tab or newline does not break a row, an escape sequence does
not reach a terminal, a right-to-left override cannot make "gpj.exe" read "exe.jpg")."""

import polars as pl

# Each as the escape a programmer would write (\t, \n, \x07, \x1b, \u202e): plain ASCII, so it shows in
# every font (Unicode's Control Pictures, ␇ ␛, are missing from the PNG charts' DejaVu Sans). Controls: C0,
# DEL and C1. Bidi: the embeddings, overrides and isolates; the marks (LRM, RLM, ALM) stay, as
# right-to-left names legitimately hold them and they override nothing.
VISIBLE = (
    {chr(c): f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
    | {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
    | {chr(c): f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
)
TRANSLATION = str.maketrans(VISIBLE)


def visible(text: str) -> str:
    return text.translate(TRANSLATION)


def visible_text_columns(df: pl.DataFrame) -> pl.DataFrame:
    """`df` with `visible` applied to every text column."""
    return df.with_columns(pl.col(pl.String).str.replace_many(VISIBLE))
