"""ВПР at federal scale: a year's Parquet file is checked with SQL and loaded by DuckDB directly."""

import hashlib

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.ingest.load import load_landing

PARQUET = "vpr/vpr_2024.parquet"
SCHEMA = pa.schema(
    [
        ("year", pa.int32()),
        ("login", pa.string()),
        ("work_code", pa.string()),
        ("subject_code", pa.string()),
        ("grade", pa.int32()),
        ("participant_code", pa.string()),
        ("class_letter", pa.string()),
        ("variant", pa.int32()),
        ("sex", pa.string()),
        ("task_scores", pa.list_(pa.int16())),
        ("task_max", pa.list_(pa.int16())),
        ("primary_score", pa.int32()),
        ("mark", pa.int32()),
        ("journal_mark", pa.int32()),
    ]
)
ROWS = [
    {
        "year": 2024,
        "login": "SCH860001 ",
        "work_code": "MA5",
        "subject_code": "MA",
        "grade": 5,
        "participant_code": "P-1",
        "class_letter": "5А",
        "variant": 1,
        "sex": "Ж",
        "task_scores": [1, None, 2],
        "task_max": [1, 1, 2],
        "primary_score": 3,
        "mark": 4,
        "journal_mark": None,
    },
    {
        "year": 2024,
        "login": "sch860002",
        "work_code": "RU4",
        "subject_code": "RU",
        "grade": 4,
        "participant_code": "P-2",
        "class_letter": "4Б",
        "variant": 2,
        "sex": "М",
        "task_scores": [0, 1],
        "task_max": [1, 1],
        "primary_score": 1,
        "mark": 3,
        "journal_mark": 3,
    },
]


def write_parquet(landing, rows, schema=SCHEMA):
    path = landing.root / PARQUET
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def test_a_parquet_year_loads_through_sql_with_logins_normalised(empty_landing, con, monkeypatch):
    monkeypatch.setenv("PARTICIPANT_CODE_SALT", "pepper")
    empty_landing.registry()
    path = write_parquet(empty_landing, ROWS)

    report = load_landing(empty_landing.root, con)["vpr_results"]

    assert report.files_loaded == [PARQUET] and report.rows_written == 2
    salted = hashlib.sha256(b"pepperP-1").hexdigest()[:16]
    assert con.execute(
        "select login, participant_code, task_scores, task_max, _sheet, _row_number, _file_sha256 "
        "from raw.vpr_results order by _row_number"
    ).fetchall()[0] == (
        "sch860001",
        salted,
        [1, None, 2],
        [1, 1, 2],
        None,
        1,
        hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def test_parquet_rules_are_checked_in_sql(empty_landing, con):
    empty_landing.registry()
    broken = [
        {**ROWS[0], "mark": 7},
        {**ROWS[1], "task_scores": [0, 3]},
        {**ROWS[1], "participant_code": "P-3", "task_scores": [0]},
        {**ROWS[1]},
        {**ROWS[0], "participant_code": "P-5", "login": "sch860099"},
        {**ROWS[0], "participant_code": "P-6"},
    ]
    write_parquet(empty_landing, broken)

    report = load_landing(empty_landing.root, con)["vpr_results"]

    assert report.files_quarantined == [PARQUET]
    assert [i.message for i in report.issues] == [
        f"{PARQUET}, row 1, column «mark»: value 7 is not a mark 2–5",
        f"{PARQUET}, row 2, column «task_scores[2]»: value 3 exceeds the task maximum 1",
        f"{PARQUET}, row 3, column «task_scores»: the row has a different number of task scores and task maxima",
        f"{PARQUET}, row 4, column «participant_code»: a second row for Код участника «P-2»; the first is row 2",
        f"{PARQUET}, row 5, column «login»: login «sch860099» is not in the school registry",
    ]

    report = load_landing(empty_landing.root, con, row_level_quarantine=True)["vpr_results"]
    assert (report.rows_written, report.rows_rejected) == (1, 5)
    assert con.execute("select participant_code from raw.vpr_results").fetchall() == [("P-6",)]


def test_parquet_with_wrong_column_types_is_quarantined(empty_landing, con):
    empty_landing.registry()
    schema = SCHEMA.set(SCHEMA.get_field_index("mark"), pa.field("mark", pa.float64()))
    write_parquet(empty_landing, ROWS, schema)

    report = load_landing(empty_landing.root, con)["vpr_results"]

    assert report.files_quarantined == [PARQUET]
    assert report.issues[0].message == (
        f"{PARQUET}: has columns of the wrong type: mark is DOUBLE (see the raw table vpr_results in docs/inputs.md)"
    )


def test_a_parquet_year_does_not_load_participants_already_loaded_from_forms(landing, con):
    load_landing(landing.root, con)
    form_rows = [
        {**ROWS[0], "year": 2023, "login": "sch860001", "participant_code": code} for code in ("50001", "P-NEW")
    ]
    path = landing.root / "vpr" / "vpr_2023.parquet"
    pq.write_table(pa.Table.from_pylist(form_rows, schema=SCHEMA), path)

    report = load_landing(landing.root, con)["vpr_results"]

    assert report.files_quarantined == ["vpr/vpr_2023.parquet"]
    assert [i.message for i in report.issues] == [
        "vpr/vpr_2023.parquet, row 1, column «participant_code»: the same participant and work is already loaded "
        "from vpr/2023/sch860001/Математика 5 класс.xlsx, row 2"
    ]
