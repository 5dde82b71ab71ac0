"""The ГИА CSV is read in blocks and validated batch by batch: rules, messages and line numbers as for a whole file."""

import pytest

from pipelines.ingest import csv_reader
from pipelines.ingest.load import load_landing
from pipelines.ingest.validate import ISSUES_PER_FILE
from tests.ingest.conftest import GIA_ROWS

GIA = "gia/gia_2023.csv"
SOURCES = {"schools", "gia_results"}


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a line or two, so a file of a few lines is read and validated in many batches."""
    monkeypatch.setattr(csv_reader, "BLOCK_BYTES", 64)
    monkeypatch.setattr(csv_reader, "ROWS_PER_BATCH", 2)


def rows(con) -> list[tuple]:
    return con.execute(
        "select _row_number, participant_code, primary_score, mark, form from raw.gia_results order by _row_number"
    ).fetchall()


def test_a_key_repeated_in_a_later_batch_is_found_with_its_first_line(empty_landing, con, small_blocks):
    empty_landing.registry()
    empty_landing.gia(lines=[*GIA_ROWS, GIA_ROWS[1].replace(";27;", ";28;")])

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert report.files_quarantined == [GIA]
    assert [i.message for i in report.issues] == [
        f"{GIA}, line 6: a second row for Год 2023, Тип экзамена «ОГЭ», Код предмета 1, Код участника «P-8F3A21C0», "
        "Пересдача 0; the first is line 2"
    ]


def test_row_level_quarantine_leaves_out_only_the_failing_lines(empty_landing, con, small_blocks):
    empty_landing.registry()
    empty_landing.gia(lines=[*GIA_ROWS[:3], GIA_ROWS[3].replace(";4;3;", ";7;3;"), GIA_ROWS[4], GIA_ROWS[1]])

    report = load_landing(empty_landing.root, con, sources=SOURCES, row_level_quarantine=True)["gia_results"]

    assert (report.rows_written, report.rows_rejected) == (3, 2)
    assert [row for row, *_ in rows(con)] == [2, 3, 5]
    assert sorted((i.row, i.rule) for i in report.issues) == [(4, "mark"), (6, "one_row_per_key")]


@pytest.mark.slow  # writes and checks a CSV of many batches
def test_issues_of_every_batch_are_capped_per_file_and_counted_in_full(empty_landing, con, small_blocks):
    empty_landing.registry()
    bad = [f"2023;ОГЭ;1;Русский язык;sch860001;P-{n:05d};27;;7;;81,8;0;экзамен" for n in range(ISSUES_PER_FILE + 30)]
    empty_landing.gia(lines=[GIA_ROWS[0], *bad])

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert len(report.issues) == ISSUES_PER_FILE and {i.rule for i in report.issues} == {"mark"}
    assert con.execute("select errors, status from ops.loaded_files where source = 'gia_results'").fetchall() == [
        (ISSUES_PER_FILE + 30, "quarantined")
    ]


def test_title_lines_short_lines_and_numbers_typed_with_spaces(empty_landing, con, small_blocks):
    empty_landing.registry()
    empty_landing.gia(
        lines=[
            "Результаты ГИА 2023",
            "",
            GIA_ROWS[0],
            GIA_ROWS[1].replace(";27;", "; 1 024 ;"),
            "2023;ОГЭ;2;Математика;sch860002;P-5",
        ]
    )

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert report.files_loaded == [GIA]
    assert rows(con) == [(4, "P-8F3A21C0", 1024, 4, "экзамен"), (5, "P-5", None, None, None)]


def test_quoted_cells_with_line_breaks_keep_the_line_numbers_a_person_sees(empty_landing, con):
    empty_landing.registry()
    empty_landing.gia(
        lines=[
            GIA_ROWS[0],
            GIA_ROWS[1].replace("Русский язык", '"Русский\r\nязык"'),
            GIA_ROWS[2].replace(";68;", ";пять;"),
        ]
    )

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert [i.message for i in report.issues] == [
        f"{GIA}, line 4, column «Тестовый балл»: value «пять» is not a number"
    ]


def test_a_file_that_is_not_cp1251_or_utf8_is_quarantined(empty_landing, con):
    empty_landing.registry()
    path = empty_landing.gia()
    path.write_bytes(path.read_bytes() + b"\x98\r\n")

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert report.files_quarantined == [GIA]
    assert report.issues[0].message.startswith(f"{GIA}: is neither UTF-8 nor cp1251 text")
