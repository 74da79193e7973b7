"""Every table, view and column comment of the warehouse is a sentence."""

# An analyst reads these comments in their SQL client's catalog, one at a time: each should read as a sentence.

import re

# The schemas DuckDB brings along; every other schema is the warehouse's own.
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "main")

COMMENTS_SQL = f"""
SELECT schema_name || '.' || table_name, comment FROM duckdb_tables()
WHERE schema_name NOT IN {SYSTEM_SCHEMAS}
UNION ALL
SELECT schema_name || '.' || view_name, comment FROM duckdb_views()
WHERE NOT internal AND schema_name NOT IN {SYSTEM_SCHEMAS}
UNION ALL
SELECT schema_name || '.' || table_name || '.' || column_name, comment FROM duckdb_columns()
WHERE NOT internal AND schema_name NOT IN {SYSTEM_SCHEMAS}
ORDER BY 1
"""

# A sentence opens with a capital, a digit, a quote or backtick, or a name from the code (value_usd, ref.x).
OPENING = re.compile(r"""[A-Z0-9"'`‘“]|[A-Za-z0-9]*[_.][A-Za-z0-9_.]*\b""")
ARTEFACTS = re.compile(r"  |\. \.|\s\.(?!\w)")


def fault(comment: str | None) -> str | None:
    """Why `comment` is not a sentence, or None."""
    text = (comment or "").strip()
    if not text:
        return "empty"
    if text != comment:
        return "leading or trailing whitespace"
    if not text.endswith((".", "?", "!")):
        return "no final . ? or !"
    if not OPENING.match(text):
        return "does not open with a capital, digit, quote or identifier"
    if ARTEFACTS.search(text):
        return "double space or stray period"
    return None


def test_every_table_view_and_column_comment_is_a_sentence(shipped_build):
    comments = shipped_build.query(COMMENTS_SQL)
    assert len(comments) > 100, "the warehouse carries its catalog"
    offending = [f"{name}: {comment!r} ({why})" for name, comment in comments if (why := fault(comment))]
    assert not offending, f"{len(offending)} of {len(comments)} comments are not sentences:\n" + "\n".join(offending)


def test_the_rule_accepts_sentences_and_refuses_phrases():
    assert fault("Currency of `value`.") is None
    assert fault("value_usd is the value in US dollars.") is None
    assert fault("`value` in USD, or NULL when no rate applies.") is None
    assert fault("ref.corridors.corridor_id this flow takes.") is None
    assert fault("Currency of `value`") == "no final . ? or !"
    assert fault("currency of the value.") is not None
    assert fault("") == "empty" and fault(None) == "empty"
    assert fault("Corridor,  or unknown.") is not None
    assert fault("Corridor, or unknown. .") is not None
    assert fault("Corridor, or unknown .") is not None
