"""Metadata every table asset reports: row count and a preview of the first rows."""

import dagster as dg

PREVIEW_ROWS = 10


def table_metadata(con, relation: str) -> dict[str, dg.MetadataValue]:
    """Row count and a Markdown preview of a table or view in the working database."""
    row_count = con.execute(f"select count(*) from {relation}").fetchone()[0]
    preview = con.execute(f"select * from {relation} limit {PREVIEW_ROWS}").df()
    return {
        "dagster/row_count": dg.MetadataValue.int(int(row_count)),
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_empty_"),
    }
