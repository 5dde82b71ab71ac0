"""The workbook writer without the pipeline: values, blanks, escaping, formats and the too-large note."""

import datetime as dt
import zipfile
from xml.etree import ElementTree

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipelines.defs.publish import excel
from pipelines.defs.publish.excel import Sheet, column_letter, write_workbook

TRICKY_TEXT = "  «СОШ» № 1 & <лицей>\nстрока 2\x01"


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("""
        create table marts as select * from (values
            (2024, 'sch1', '  «СОШ» № 1 & <лицей>' || chr(10) || 'строка 2' || chr(1), 12.5::double, true,
             timestamp '2024-03-01 06:30:00', 7::hugeint),
            (2023, 'sch2', null, 'nan'::double, false, null, null),
            (2022, 'sch3', 'x', 'inf'::double, null, null, 3::hugeint)
        ) as t(year, login, school_name, share, flagged, decided_at, numerator)
        order by year desc
    """)
    return con


def sheet_of(con, name: str = "Лист «1»", rows: int = 3) -> Sheet:
    columns = con.execute("select column_name, data_type from duckdb_columns() where table_name = 'marts' "
                          "order by column_index").fetchall()
    return Sheet(name=name, title="Таблица", headers=["Год", "Логин ОО", "Наименование ОО", "Доля, %", "Есть признаки",
                                                      "Дата решения", "Числитель"],
                 table="marts", columns=columns, rows=rows, freeze_columns=2, note="примечание",
                 full_table="parquet/marts.parquet")


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_values_blanks_and_text_survive_the_round_trip(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con)], "Заголовок", "r1")
    sheet = openpyxl.load_workbook(path)["Лист «1»"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Год", "Логин ОО", "Наименование ОО", "Доля, %", "Есть признаки", "Дата решения", "Числитель")
    assert rows[1] == (2024, "sch1", TRICKY_TEXT.replace("\x01", ""), 12.5, "да", dt.datetime(2024, 3, 1, 6, 30), 7)
    assert rows[2] == (2023, "sch2", None, None, "нет", None, None)  # NULL and NaN are blank
    assert rows[3] == (2022, "sch3", "x", None, None, None, 3)  # infinity is blank too
    assert sheet["A2"].number_format == "0" and sheet["D2"].number_format == "0.0##"
    assert sheet["F2"].number_format == "dd.mm.yyyy hh:mm"
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref == "A1:G4"
    assert sheet["A1"].font.bold and sheet.column_dimensions["C"].width > excel.MIN_WIDTH


def test_calamine_reads_what_openpyxl_reads(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con)], "Заголовок", "r1")
    frame = pd.read_excel(path, sheet_name="Лист «1»", engine="calamine")
    assert list(frame["Логин ОО"]) == ["sch1", "sch2", "sch3"]
    assert list(frame["Год"]) == [2024, 2023, 2022]
    assert frame["Наименование ОО"].iloc[0] == TRICKY_TEXT.replace("\x01", "")


def test_every_part_is_well_formed_and_declared(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con), sheet_of(con, "Второй")], "Заголовок & итог", "r1")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for name in names:
            ElementTree.fromstring(archive.read(name))
        types = archive.read("[Content_Types].xml").decode()
        workbook = archive.read("xl/workbook.xml").decode()
    assert all(f'PartName="/{name}"' in types for name in names if name.startswith(("xl/worksheets/", "docProps/")))
    assert workbook.count("_xlnm._FilterDatabase") == 2
    assert [n for n in names if not n.endswith(".xml") and not n.endswith(".rels")] == []


def test_contents_sheet_links_every_sheet_with_its_row_count(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con), sheet_of(con, "Второй")], "Заголовок", "r1")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Содержание", "Лист «1»", "Второй"]
    contents = book["Содержание"]
    assert contents["A1"].value == "Заголовок" and contents["A1"].font.sz == 14
    assert [contents[f"A{r}"].value for r in (5, 6)] == ["Лист «1»", "Второй"]
    assert [contents[f"C{r}"].value for r in (5, 6)] == [3, 3]
    assert contents["A5"].hyperlink.location == "'Лист «1»'!A1"


def test_a_table_too_large_for_a_sheet_points_to_its_parquet_file(con, tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 2)
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con)], "Заголовок", "r1")
    sheet = openpyxl.load_workbook(path)["Лист «1»"]
    assert sheet.max_row == 1 and "parquet/marts.parquet" in sheet["A1"].value
    assert "3 строк" in sheet["A1"].value


FORMULAS = ["=HYPERLINK(\"http://example.org\",\"ссылка\")", "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)",
            "\t=1+1"]


def test_text_that_looks_like_a_formula_is_written_so_spreadsheets_never_evaluate_it(tmp_path):
    con = duckdb.connect()
    con.execute("create table marts (login varchar, comment varchar)")
    con.executemany("insert into marts values (?, ?)", [[f"sch{n}", text] for n, text in enumerate([*FORMULAS, "обычный"])])
    columns = con.execute("select column_name, data_type from duckdb_columns() where table_name = 'marts' "
                          "order by column_index").fetchall()
    sheet = Sheet(name="Лист", title="Т", headers=["Логин", "Комментарий"], table="marts", columns=columns,
                  rows=len(FORMULAS) + 1, freeze_columns=1, note="", full_table="parquet/marts.parquet")
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet], "Заголовок", "r1")

    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet2.xml").decode()
        styles = archive.read("xl/styles.xml").decode()
    root = ElementTree.fromstring(xml)
    cells = {c.get("r"): c for c in root.iter(f"{{{excel.MAIN_NS}}}c")}
    for row, text in enumerate(FORMULAS, start=2):
        cell = cells[f"B{row}"]
        assert cell.get("t") == "inlineStr" and cell.find(f"{{{excel.MAIN_NS}}}f") is None  # no formula, text
        assert cell.get("s") == str(excel.LITERAL_TEXT), text
    assert cells[f"B{len(FORMULAS) + 2}"].get("s") is None  # ordinary text keeps the general style
    xfs = ElementTree.fromstring(styles).find(f"{{{excel.MAIN_NS}}}cellXfs")
    literal = list(xfs)[excel.LITERAL_TEXT]
    assert literal.get("quotePrefix") == "1" and literal.get("numFmtId") == "49"
    assert int(xfs.get("count")) == len(list(xfs))

    book = openpyxl.load_workbook(path)["Лист"]
    assert [book.cell(row, 2).value for row in range(2, len(FORMULAS) + 2)] == FORMULAS  # kept exactly as typed
    assert all(book.cell(row, 2).data_type == "s" and book.cell(row, 2).quotePrefix for row in range(2, len(FORMULAS) + 2))
