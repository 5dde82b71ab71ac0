"""Metadata every table asset reports: row count, and a preview of the first rows unless it holds participants.

Participant-level relations (one row per pupil: ВПР and ГИА results in staging and intermediate, the
objectivity participants) never show rows in the Dagster UI, not even with pseudonymous codes: their
metadata is the row count and the column schema only. A relation is participant-level when its dbt
model says so (``config: {meta: {participant_level: true}}``) or, whatever its configuration, when it
has a column that identifies participants.
"""

import dagster as dg

from pipelines.common import sql_identifier

PREVIEW_ROWS = 10
FAILING_ROWS = 10
# Columns that identify a participant; a relation with one of them is never previewed.
PARTICIPANT_COLUMNS = frozenset({"participant_code"})
# Columns of one pupil's result: left out of the failing rows of a test on a participant-level model, so a
# sample shows where the problem is (school, year, work), never a pupil.
PUPIL_COLUMNS = PARTICIPANT_COLUMNS | {
    "task_scores",
    "task_max",
    "journal_mark",
    "primary_score",
    "test_score",
    "mark",
    "mark_in_file",
    "sex",
    "class_letter",
    "source_row_number",
    "_row_number",
    "failing_value",  # the value a column_rules test found, of whichever column failed (tests/generic)
}
NO_PREVIEW = "_participant-level relation: rows are not shown in Dagster (152-ФЗ); see the row count and columns_"


def relation_columns(con, relation: str) -> list[tuple[str, str]]:
    """(column, type) of a table or view, in order."""
    return [(name, str(column_type)) for name, column_type, *_ in con.execute(f"describe {relation}").fetchall()]


def is_participant_level(columns: list[tuple[str, str]]) -> bool:
    return any(name.lower() in PARTICIPANT_COLUMNS for name, _ in columns)


def table_metadata(con, relation: str, participant_level: bool = False) -> dict[str, dg.MetadataValue]:
    """Row count and a Markdown preview of a table or view in the working database.

    A participant-level relation gets its column schema instead of a preview.
    """
    row_count = con.execute(f"select count(*) from {relation}").fetchone()[0]
    metadata = {"dagster/row_count": dg.MetadataValue.int(int(row_count))}
    columns = relation_columns(con, relation)
    if participant_level or is_participant_level(columns):
        return {
            **metadata,
            "participant_level": dg.MetadataValue.bool(True),
            "preview": dg.MetadataValue.md(NO_PREVIEW),
            "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(n, t) for n, t in columns]),
        }
    preview = con.execute(f"select * from {relation} limit {PREVIEW_ROWS}").df()
    return {**metadata, "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_empty_")}


def failing_rows_metadata(con, relation: str, participant_level: bool = False) -> dict[str, dg.MetadataValue]:
    """The first failing rows a dbt test kept (``store_failures``), as Markdown, without participant columns.

    On a participant-level model the columns of a pupil's result are left out too.
    """
    hidden = PUPIL_COLUMNS if participant_level else PARTICIPANT_COLUMNS
    columns = [name for name, _ in relation_columns(con, relation) if name.lower() not in hidden]
    if not columns:
        return {}
    sample = con.execute(f"select {', '.join(map(sql_identifier, columns))} from {relation} limit {FAILING_ROWS}").df()
    return {
        "failing rows (sample)": dg.MetadataValue.md(sample.to_markdown(index=False) if len(sample) else "_empty_"),
        "failing rows relation": dg.MetadataValue.text(relation),
    }
