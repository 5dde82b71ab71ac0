"""Bad or odd inputs an authority could send: each is reported precisely and loses no earlier rows."""

import os
import time

import pytest

from pipelines.ingest.load import load_landing
from tests.ingest.conftest import GIA_ROWS, PASSPORT, SHNOR, VPR_HEADER

PASSPORT_HEADER = PASSPORT[0]


def _touch_later(path):
    """A rewritten file with a later mtime, so the loader sees it as changed."""
    later = time.time() + 5
    os.utime(path, (later, later))


def _rows(con, source, file):
    return con.execute(f"select count(*) from raw.{source} where _source_file = ?", [file]).fetchone()[0]


@pytest.mark.parametrize(
    "source, write, file",
    [
        ("fioko_shnor", lambda l, rows: l.shnor(rows=SHNOR if rows else SHNOR[:1]), "fioko/shnor_2023.xlsx"),
        (
            "vpr_results",
            lambda l, rows: l.vpr_form() if rows else l.vpr_form(rows=[]),
            "vpr/2023/sch860001/Математика 5 класс.xlsx",
        ),
        ("gia_results", lambda l, rows: l.gia(lines=GIA_ROWS if rows else GIA_ROWS[:1]), "gia/gia_2023.csv"),
    ],
    ids=["shnor", "vpr_form", "gia_csv"],
)
def test_a_header_only_version_does_not_wipe_the_rows_of_a_good_one(empty_landing, con, source, write, file):
    empty_landing.registry()
    write(empty_landing, True)
    load_landing(empty_landing.root, con, sources={"schools", source})
    before = _rows(con, source, file)
    assert before > 0

    _touch_later(write(empty_landing, False))
    report = load_landing(empty_landing.root, con, sources={"schools", source})[source]

    assert report.files_quarantined == [file]
    [issue] = [i for i in report.issues if i.rule == "empties_source"]
    assert issue.message == (
        f"{file}: this version has no rows, and would remove the {before} row(s) of its earlier version: it is "
        f"quarantined and those rows are kept. If the file is meant to be empty, put an empty file "
        f"«{file}.intentionally-empty» beside it (docs/inputs.md)"
    )
    assert _rows(con, source, file) == before

    # the documented way to say «this is intentional»: the marker file; the quarantined version is read again
    (empty_landing.root / f"{file}.intentionally-empty").touch()
    report = load_landing(empty_landing.root, con, sources={"schools", source})[source]
    assert report.files_loaded == [file] and _rows(con, source, file) == 0


def test_a_first_version_without_rows_is_not_held_back(empty_landing, con):
    empty_landing.registry()
    empty_landing.shnor(rows=SHNOR[:1])
    report = load_landing(empty_landing.root, con, sources={"schools", "fioko_shnor"})["fioko_shnor"]
    assert report.files_loaded == ["fioko/shnor_2023.xlsx"]


def test_every_file_no_source_reads_is_listed_with_the_reason(empty_landing, con):
    root = empty_landing.root
    empty_landing.registry()
    empty_landing.gia()
    empty_landing.gia(name="ГИА_2023.csv")
    empty_landing.gia(name="gia_2023 (1).csv")
    empty_landing.shnor().rename(root / "fioko" / "ШНОР 2023.xlsx")
    form = empty_landing.vpr_form()
    form.rename(form.with_suffix(".xls"))
    (root / "отчёты").mkdir()
    (root / "отчёты" / "заметки.docx").write_bytes(b"x")
    (root / "ground_truth").mkdir()
    (root / "ground_truth" / "planted.csv").write_text("x")  # the generator's answers: not an input
    (root / "gia" / "gia_2023.csv.intentionally-empty").touch()  # a marker: not an input either

    report = load_landing(root, con, sources={"schools"})["schools"]

    gia_reason = (
        "its campaign cannot be told: a file of the CSV layout (header starting «Год») is read only as "
        "gia/gia_<YYYY>.csv, a РЦОИ list by the date of its title row; rename it, e.g. gia/gia_2023.csv"
    )
    assert report.unread == [
        (
            "fioko/ШНОР 2023.xlsx",
            "FIOKO lists are recognised by their name: rename it to shnor_<YYYY>.xlsx, "
            "objectivity_markers*.xlsx or risk_profiles_<YYYY>.xlsx (e.g. fioko/shnor_2023.xlsx), "
            "as docs/inputs.md says",
        ),
        ("gia/gia_2023 (1).csv", gia_reason),
        ("gia/ГИА_2023.csv", gia_reason),
        (
            "vpr/2023/sch860001/Математика 5 класс.xls",
            "an Excel 97–2003 workbook (.xls) is not read: open it in Excel and save it as .xlsx («Книга Excel»)",
        ),
        (
            "отчёты/заметки.docx",
            "the folder «отчёты/» is not an input folder; inputs go in registry/, fioko/, vpr/, "
            "vpr_reports/, gia/, social_passport/, reviews/ (docs/inputs.md)",
        ),
    ]
    assert f"gia/ГИА_2023.csv: not read — {gia_reason}" in report.notes


XLSX_AT = "fioko/shnor_2023.xlsx"


def _encrypted_workbook() -> bytes:
    """The start of an OLE2 container holding an encrypted OOXML package, as Excel writes a password-protected file."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 500


@pytest.mark.parametrize(
    "data, says",
    [
        (b"", "is empty (0 bytes or only blanks): download or save it again"),
        (_encrypted_workbook(), "is a password-protected (encrypted) workbook: open it in Excel, remove the password"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000,
            "is an Excel 97–2003 workbook (.xls) under an .xlsx name",
        ),
        (
            "Год;Логин;Наименование ОО\r\n2023;sch860002;школа\r\n".encode("cp1251"),
            "is a text file (CSV?) saved under an .xlsx name, not an Excel workbook",
        ),
        (None, "is truncated or damaged (an incomplete download or copy?): download or save it again"),
    ],
    ids=["empty", "encrypted", "xls", "csv_inside", "truncated"],
)
def test_an_unreadable_workbook_is_said_to_be_what_it_really_is(empty_landing, con, data, says):
    empty_landing.registry()
    path = empty_landing.shnor()
    if data is None:  # a download cut in the middle
        data = path.read_bytes()[: len(path.read_bytes()) // 2]
    path.write_bytes(data)

    report = load_landing(empty_landing.root, con, sources={"schools", "fioko_shnor"})["fioko_shnor"]

    [issue] = report.issues
    assert issue.rule == "unreadable" and issue.message.startswith(f"{XLSX_AT}: {says}"), issue.message
    assert "Cannot detect file format" not in issue.message


SAVE_AS = "save it again as «CSV (разделители — точка с запятой)» in Windows-1251 or as «CSV UTF-8»"


@pytest.mark.parametrize(
    "encoding, lines, says",
    [
        ("utf-16", GIA_ROWS, f"is UTF-16 text (Excel's «Текст Юникод»), not UTF-8 or Windows-1251: {SAVE_AS}"),
        (
            "koi8_r",
            GIA_ROWS,
            f"is KOI8-R text, not UTF-8 or Windows-1251 (its header reads as «Год» only in KOI8-R): {SAVE_AS}",
        ),
        ("cp1251", [], "is empty: it has no lines, not even a header"),
    ],
    ids=["utf16", "koi8r", "empty"],
)
def test_an_unreadable_csv_is_said_to_be_what_it_really_is(empty_landing, con, encoding, lines, says):
    empty_landing.registry()
    path = empty_landing.gia(lines=lines, encoding=encoding)
    if not lines:
        path.write_bytes(b"")

    report = load_landing(empty_landing.root, con, sources={"schools", "gia_results"})["gia_results"]

    assert [(i.rule, i.message) for i in report.issues] == [("unreadable", f"gia/gia_2023.csv: {says}")]


def test_a_reordered_header_is_read_by_its_names(empty_landing, con):
    empty_landing.registry()
    header, row = SHNOR
    order = [1, 0, 4, 2, 3]  # «Логин» first, «Год» second
    empty_landing.shnor(rows=[[header[i] for i in order], [row[i] for i in order]])

    report = load_landing(empty_landing.root, con, sources={"schools", "fioko_shnor"})["fioko_shnor"]

    assert report.issues == [] and report.files_loaded == [XLSX_AT]
    assert con.execute("select year, login, level from raw.fioko_shnor").fetchall() == [
        (2023, "sch860002", "Умеренно неуспевающие")
    ]


def test_excel_error_values_are_reported_with_their_cell_not_read_as_empty(empty_landing, con):
    import xlsxwriter

    empty_landing.registry()
    path = empty_landing.root / "vpr" / "2023" / "sch860001" / "Математика 5 класс.xlsx"
    path.parent.mkdir(parents=True)
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Протокол")
    from tests.ingest.conftest import FIRST_TASK, JOURNAL, VPR_ROWS

    for r, row in enumerate([VPR_HEADER, *VPR_ROWS]):
        sheet.write_row(r, 0, row)
    sheet.write_formula(1, JOURNAL, "=1/0", None, "#DIV/0!")
    sheet.write_formula(2, FIRST_TASK, "=NA()", None, "#N/A")
    workbook.close()

    report = load_landing(empty_landing.root, con, sources={"schools", "vpr_results"})["vpr_results"]

    found = {(i.row, i.column, i.value) for i in report.issues}
    assert (2, VPR_HEADER[JOURNAL], "#DIV/0!") in found and (3, VPR_HEADER[FIRST_TASK], "#N/A") in found, report.issues
    assert report.files_quarantined == ["vpr/2023/sch860001/Математика 5 класс.xlsx"]


def test_a_passport_of_a_future_year_is_rejected(empty_landing, con):
    import datetime as dt

    future = dt.date.today().year + 5
    empty_landing.registry()
    empty_landing.passport(year=future)
    report = load_landing(empty_landing.root, con, sources={"schools", "social_passport"})["social_passport"]
    assert [i.message for i in report.issues if i.rule == "future_year"] == [
        f"social_passport/social_passport_{future}.xlsx: year {future} is in the future: results and passports go up "
        f"to the current year, {future - 5} (from the file's name)"
    ]
    assert report.files_quarantined == [f"social_passport/social_passport_{future}.xlsx"]


def test_a_second_markers_file_contradicting_the_first_is_rejected(empty_landing, con):
    from tests.ingest.conftest import MARKERS, set_cell

    empty_landing.registry()
    empty_landing.markers()
    load_landing(empty_landing.root, con, sources={"schools", "fioko_objectivity_markers"})
    empty_landing.markers(name="objectivity_markers_2023 копия.xlsx")  # the same list again: agrees
    report = load_landing(empty_landing.root, con, sources={"schools", "fioko_objectivity_markers"})[
        "fioko_objectivity_markers"
    ]
    assert report.files_loaded == ["fioko/objectivity_markers_2023 копия.xlsx"]
    contradicting = set_cell(set_cell(MARKERS, 0, "4 МА", 0), 0, "Количество маркеров", 1)
    empty_landing.markers(rows=contradicting, name="objectivity_markers_2023_v2.xlsx")

    report = load_landing(empty_landing.root, con, sources={"schools", "fioko_objectivity_markers"})[
        "fioko_objectivity_markers"
    ]

    assert report.files_quarantined == ["fioko/objectivity_markers_2023_v2.xlsx"]
    [message] = [i.message for i in report.issues if i.rule == "contradicts_file"]
    assert message == (
        "fioko/objectivity_markers_2023_v2.xlsx, sheet «Признаки необъективности папка », row 2: "
        "Год 2023, Логин «sch860001» is already loaded from fioko/objectivity_markers_2023.xlsx, row 2 "
        "with other values («Количество маркеров» 1 here, 2 there; «4 МА» 0 here, 1 there); the lists "
        "contradict each other: correct or remove one"
    )


def test_a_misspelt_optional_header_is_reported_not_loaded_as_an_empty_column(empty_landing, con):
    import tests.ingest.conftest as fixtures

    empty_landing.registry()
    original = list(fixtures.REPORT_HEADER)
    fixtures.REPORT_HEADER[-1] = "Отметка по журнал"
    try:
        empty_landing.report_f1()
    finally:
        fixtures.REPORT_HEADER[:] = original
    header = [("Средняя недельная нагрузк" if h == "Средняя недельная нагрузка" else h) for h in PASSPORT_HEADER]
    empty_landing.passport(rows=[header, *fixtures.PASSPORT[1:]])

    reports = load_landing(empty_landing.root, con, sources={"schools", "vpr_results", "social_passport"})

    [vpr] = reports["vpr_results"].issues
    assert (vpr.rule, vpr.message) == (
        "unknown_header",
        (
            "vpr/2023/Индивидуальные результаты.xlsx: the header row 8 has an unknown column «Отметка по журнал», "
            "close to the documented «отметка по журналу»: correct the header (otherwise that column would be read "
            "as empty)"
        ),
    )
    [passport] = reports["social_passport"].issues
    assert passport.message == (
        "social_passport/social_passport_2023.xlsx: the header row 3 has an unknown column «Средняя недельная "
        "нагрузк», close to the documented «Средняя недельная нагрузка»: correct the header (otherwise that column "
        "would be read as empty)"
    )
    assert con.execute("select count(*) from raw.vpr_results").fetchone() == (0,)


def test_a_region_export_or_flattened_report_whose_year_disagrees_with_its_folder_is_reported(empty_landing, con):
    from tests.ingest.conftest import FLAT_MARKS, write_xlsx

    empty_landing.registry()
    form = empty_landing.vpr_form(year=2022, login="sch860001", name="Математика 5 класс. ВПР 2023.xlsx")
    flat = write_xlsx(empty_landing.root / "vpr_reports" / "2024" / "vpr_marks_export.xlsx", "Sheet1", FLAT_MARKS)

    reports = load_landing(empty_landing.root, con, sources={"schools", "vpr_results", "vpr_report_counts"})

    assert [(i.rule, i.message) for i in reports["vpr_results"].issues] == [
        (
            "year_of_folder",
            (
                f"{form.relative_to(empty_landing.root).as_posix()}: the file name says ВПР 2023, but the file is "
                "under the folder of 2022: move it to vpr/2023/"
            ),
        )
    ]
    messages = [i.message for i in reports["vpr_report_counts"].issues if i.rule == "year_of_folder"]
    assert messages[0] == (
        "vpr_reports/2024/vpr_marks_export.xlsx, sheet «Sheet1», row 2, column «Год»: the row says "
        "2023, but the file is under the folder of 2024: move it to vpr_reports/ (no year folder) "
        "or correct the year"
    )
    assert reports["vpr_report_counts"].files_quarantined == ["vpr_reports/2024/vpr_marks_export.xlsx"]
    _ = flat
