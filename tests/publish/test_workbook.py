"""The analysts' workbook of the sample's release, read back as an analyst's spreadsheet program reads it."""

import re
import zipfile

import duckdb
import openpyxl
import pytest

from pipelines.defs.publish.config import load_publication_config
from pipelines.defs.publish.excel import CONTENTS_SHEET, SUMMARY_SHEET
from pipelines.defs.publish.release import CURRENT, MANIFEST

CONFIG = load_publication_config()
MARTS = {m.name: m for m in CONFIG.marts}


@pytest.fixture(scope="module")
def current(sample):
    return sample.publish_dir / CURRENT


@pytest.fixture(scope="module")
def book(current):
    return openpyxl.load_workbook(current / CONFIG.excel_file)


def published(current, sql: str) -> list[tuple]:
    with duckdb.connect(str(current / CONFIG.duckdb_file), read_only=True) as con:
        return con.execute(sql).fetchall()


def column_of(sheet, header: str) -> str:
    return next(cell.column_letter for cell in sheet[1] if cell.value == header)


def test_the_workbook_opens_at_the_summary_naming_the_release(book, current):
    release = current.resolve().name
    assert book.sheetnames == [SUMMARY_SHEET, CONTENTS_SHEET, *(m.sheet for m in CONFIG.marts)]
    assert book.active.title == SUMMARY_SHEET
    assert book[SUMMARY_SHEET]["A2"].value.startswith(f"Выпуск {release}")
    assert book[CONTENTS_SHEET]["A2"].value.startswith(f"Выпуск {release}")
    manifest = (current / MANIFEST).read_text(encoding="utf-8")
    assert '"territories": {}' in manifest  # the sample is small enough for one workbook


def summary_rows(book, title: str) -> list[tuple]:
    """The rows of one summary table, under its title and header."""
    rows = list(book[SUMMARY_SHEET].iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == title) + 2
    end = next((i for i in range(start, len(rows)) if rows[i][0] is None), len(rows))
    return rows[start:end]


def test_the_summary_agrees_with_the_published_marts(book, current):
    shnor = {row[0]: row[1:6] for row in summary_rows(book, "ШНОР по годам перечня")}
    expected = published(
        current, "select year, count(*), count(*) filter (where is_shnor_computed) from school_flags group by year"
    )
    assert {year: values[:2] for year, values in shnor.items()} == {y: (n, c) for y, n, c in expected}
    year, (schools, computed, share, _, _) = max(shnor.items())
    assert share == pytest.approx(computed / schools)
    kpis = {row[0]: row[1:] for row in summary_rows(book, "Показатели программы: достижение целевых значений")}
    met = published(
        current,
        "select year, count(*) filter (where is_met), count(*) filter (where not is_met) "
        "from program_kpis group by year",
    )
    assert {y: (k[1], k[2]) for y, k in kpis.items()} == {y: (m, n) for y, m, n in met}
    pending = published(current, "select distinct login from objectivity_school_year where status = 'на проверке'")
    listed = {row[0]: row for row in summary_rows(book, f"ОО, требующие внимания, {year} год")}
    assert {login for (login,) in pending} <= set(listed)


def test_the_summary_has_charts_of_shnor_and_of_targets(current):
    with zipfile.ZipFile(current / CONFIG.excel_file) as archive:
        charts = sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart"))
        xml = [archive.read(name).decode() for name in charts]
        drawing_rels = archive.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
    assert len(charts) == 2 and "drawing" in drawing_rels  # both on the first sheet, the summary
    assert "Динамика ШНОР" in xml[0] and '<c:barDir val="col"/>' in xml[0]
    assert "Цель и факт" in xml[1] and '<c:barDir val="bar"/>' in xml[1]
    assert all(f"{SUMMARY_SHEET}!$" in text for text in xml)  # the series are the summary's cells


def test_shares_are_percentages_and_numbers_have_fixed_decimals(book):
    sheet = book[MARTS["school_work_indicators"].sheet]
    formats = {
        sheet[f"{column_of(sheet, header)}2"].number_format
        for column, header in MARTS["school_work_indicators"].columns.items()
        if column.endswith("_pct")
    }
    assert formats == {"0.0%"}
    assert sheet[f"{column_of(sheet, 'Средняя отметка')}2"].number_format == "0.00"
    assert sheet[f"{column_of(sheet, 'Участников')}2"].number_format == "0"
    every_format = {
        cell.number_format
        for ws in book.worksheets
        for row in ws.iter_rows(min_row=2, max_row=30)
        for cell in row
        if isinstance(cell.value, float)
    }
    assert not any("#" in code for code in every_format), every_format
    value = sheet[f"{column_of(sheet, 'Успеваемость, %')}2"].value
    assert 0 <= value <= 1  # percent points of the mart, as an Excel percentage


def test_every_mart_is_an_excel_table_with_a_frozen_header_and_a_print_setup(book):
    for mart in CONFIG.marts:
        sheet = book[mart.sheet]
        assert list(sheet.tables) == [mart.name], mart.name
        assert sheet.tables[mart.name].ref.startswith("A1:") and sheet.tables[mart.name].autoFilter is not None
        assert sheet.freeze_panes == f"{chr(ord('A') + mart.freeze_columns)}2"
        assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0


def test_long_text_wraps_in_rows_tall_enough_to_show_it(book):
    sheet = book[MARTS["school_flags"].sheet]
    reason = column_of(sheet, "Основание")
    long_rows = [
        c.row for c in sheet[reason][1:] if c.value and len(c.value) > 2 * sheet.column_dimensions[reason].width
    ]
    assert long_rows
    assert all(sheet[f"{reason}{r}"].alignment.wrap_text for r in long_rows)
    assert all(sheet.row_dimensions[r].height and sheet.row_dimensions[r].height >= 30 for r in long_rows)


def test_shnor_schools_pending_flags_and_unmet_targets_are_highlighted(book):
    def rules(sheet_name):
        sheet = book[sheet_name]
        return {(str(cf.sqref), rule.formula[0]) for cf in sheet.conditional_formatting for rule in cf.rules}

    shnor = book[MARTS["school_flags"].sheet]
    column = column_of(shnor, "ШНОР по расчёту")
    assert any(formula == f'${column}2="да"' for _, formula in rules(MARTS["school_flags"].sheet))
    flags = book[MARTS["objectivity_flags"].sheet]
    assert any(
        formula == f'${column_of(flags, "Статус проверки")}2="на проверке"'
        for _, formula in rules(MARTS["objectivity_flags"].sheet)
    )
    kpis = book[MARTS["program_kpis"].sheet]
    assert any(
        formula == f'${column_of(kpis, "Достигнуто")}2="нет"' for _, formula in rules(MARTS["program_kpis"].sheet)
    )
    assert any('="нет"' in formula for _, formula in rules(SUMMARY_SHEET))  # unmet targets on the summary too


def test_no_english_code_is_shown(book, current):
    logins = {login for (login,) in published(current, "select distinct login from school_flags")}
    codes = set(CONFIG.workbook.labels) | set(CONFIG.workbook.replacements)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(min_row=3 if sheet.title in (SUMMARY_SHEET, CONTENTS_SHEET) else 2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value not in logins:
                    assert not re.search(r"[A-Za-z]{2,}", cell.value), (sheet.title, cell.coordinate, cell.value)
    assert {"shnor_criterion", "triggering_works", "territory_level", "work_code"} <= codes
    shnor = book[MARTS["school_flags"].sheet]
    criteria = {c.value for c in shnor[column_of(shnor, "Критерий")][1:] if c.value}
    assert criteria and "низкие результаты по двум работам в прошлом году" in criteria
