"""The review file: decoding, the contract, messages that name file, line and column, and replacement."""

import duckdb

from pipelines.defs.quality.reviews import REVIEWS_FILE, load_reviews

HEADER = "login;year;work_code;sign;decision;reviewer;decided_at;comment\n"


def write(landing, text: str, encoding: str = "utf-8") -> None:
    (landing / "reviews").mkdir(exist_ok=True)
    (landing / REVIEWS_FILE).write_bytes(text.encode(encoding))


def test_good_rows_load_from_cp1251_and_bad_rows_are_reported(tmp_path):
    write(
        tmp_path,
        HEADER
        + " SCH860021 ;2023;all;jump_then_fall;подтверждено;Иванова;2024-11-15;перепроверка\n"
        + "sch860009;20x1;MA5;heaping;отклонено;;завтра;\n"
        + "sch860025;2023;RU4;vpr_above_journal;снято;Петров;15.11.2024 10:30;\n",
        encoding="cp1251",
    )
    con = duckdb.connect()
    loaded, issues = load_reviews(con, tmp_path)
    assert loaded == 2
    rows = con.execute(
        "select login, work_code, decision, year, _row_number from raw.reviews order by login"
    ).fetchall()
    assert rows == [("sch860021", "ALL", "подтверждено", 2023, 2), ("sch860025", "RU4", "снято", 2023, 4)]
    messages = [str(issue) for issue in issues]
    assert {issue.column for issue in issues} == {"year", "sign", "decision", "reviewer", "decided_at"}
    assert all(message.startswith("reviews/reviews.csv, line 3, column «") for message in messages)
    assert any("value «отклонено»: must be one of подтверждено, снято" in message for message in messages)


def test_unreadable_header_keeps_previous_decisions(tmp_path):
    write(tmp_path, HEADER + "sch860021;2023;ALL;jump_then_fall;снято;Иванова;2024-11-15;\n")
    con = duckdb.connect()
    assert load_reviews(con, tmp_path)[0] == 1
    write(tmp_path, "логин;год\nsch860021;2023\n")
    loaded, issues = load_reviews(con, tmp_path)
    assert loaded == -1 and "missing: login, year, work_code" in str(issues[0])
    assert con.execute("select count(*) from raw.reviews").fetchone()[0] == 1


def test_no_file_means_no_decisions(tmp_path):
    con = duckdb.connect()
    assert load_reviews(con, tmp_path) == (0, [])
    assert con.execute("select count(*) from raw.reviews").fetchone()[0] == 0
