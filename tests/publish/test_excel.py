"""The workbook writer without the pipeline: values, blanks, formats, labels, tables, print setup, the
too-large note, formulas never evaluated, streaming, and one workbook per territory."""

import datetime as dt
import zipfile
from xml.etree import ElementTree

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipelines.defs.publish import excel
from pipelines.defs.publish.config import Highlight
from pipelines.defs.publish.excel import (
    CONTENTS_SHEET,
    SUMMARY_SHEET,
    Sheet,
    column_letter,
    column_spec,
    file_name,
    write_workbook,
    write_workbooks,
)

TRICKY_TEXT = "  «СОШ» № 1 & <лицей>\nстрока 2\x01"
HEADERS = ["Год", "Логин ОО", "Наименование ОО", "Доля, %", "Есть признаки", "Дата решения", "Числитель", "Уровень"]


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("""
        create table marts as select * from (values
            (2024, 'sch1', '  «СОШ» № 1 & <лицей>' || chr(10) || 'строка 2' || chr(1), 12.5::double, true,
             timestamp '2024-03-01 06:30:00', 7::hugeint, 'municipality'),
            (2023, 'sch2', null, 'nan'::double, false, null, null, 'region'),
            (2022, 'sch3', 'x', 'inf'::double, null, null, 3::hugeint, null)
        ) as t(year, login, school_name, share_pct, flagged, decided_at, numerator, territory_level)
        order by year desc
    """)
    return con


def sheet_of(con, name: str = "Лист «1»", rows: int = 3, table: str = "marts", **more) -> Sheet:
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() where table_name = ? order by column_index", [table]
    ).fetchall()
    options = {
        "name": name,
        "title": "Таблица",
        "headers": HEADERS[: len(columns)],
        "table": table,
        "columns": columns,
        "rows": rows,
        "freeze_columns": 2,
        "note": "примечание",
        "full_table": f"parquet/{table}.parquet",
        "key": table,
        "labels": {"territory_level": {"municipality": "муниципалитет", "region": "регион"}},
        "highlights": [Highlight("flagged", "да", "alarm")],
    }
    return Sheet(**{**options, **more})


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_values_blanks_labels_and_formats_survive_the_round_trip(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con)], "Заголовок", "r1")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SUMMARY_SHEET, CONTENTS_SHEET, "Лист «1»"] and book.active.title == SUMMARY_SHEET
    sheet = book["Лист «1»"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(HEADERS)
    # shares in percent points become Excel percentages; codes become Russian labels
    assert rows[1] == (
        2024,
        "sch1",
        TRICKY_TEXT.replace("\x01", ""),
        0.125,
        "да",
        dt.datetime(2024, 3, 1, 6, 30),
        7,
        "муниципалитет",
    )
    assert rows[2] == (2023, "sch2", None, None, "нет", None, None, "регион")  # NULL and NaN are blank
    assert rows[3] == (2022, "sch3", "x", None, None, None, 3, None)  # infinity is blank too
    assert sheet["A2"].number_format == "0" and sheet["D2"].number_format == "0.0%"
    assert sheet["F2"].number_format == "dd.mm.yyyy hh:mm" and sheet["G2"].number_format == "0"
    assert sheet.freeze_panes == "C2"
    assert sheet.column_dimensions["C"].width > excel.MIN_WIDTH
    assert sheet.row_dimensions[2].height >= 2 * excel.LINE_HEIGHT  # the line break in the name shows


def test_number_formats_have_fixed_decimals(con):
    assert column_spec("mean_mark", "DOUBLE").number_format == "0.00"
    assert column_spec("mean_score_100", "DOUBLE", number_format="0.0").number_format == "0.0"
    assert column_spec("pass_rate_pct", "DOUBLE").number_format == "0.0%"
    assert column_spec("participants", "BIGINT").number_format == "0"
    assert all("#" not in column_spec(c, t).number_format for c, t in [("a", "DOUBLE"), ("b_pct", "DECIMAL(5,1)")])


def test_lists_of_codes_are_translated_part_by_part():
    con = duckdb.connect()
    spec = column_spec(
        "triggering_works", "VARCHAR", replacements={"MA": "МА", "MA_BASE": "МА баз.", "RU": "РУ", "|": "; ", ":": ": "}
    )
    value = con.execute(f"select {spec.select} from (select '2019:ЕГЭ MA_BASE|2019:ВПР RU6' as triggering_works)")
    assert value.fetchone()[0] == "2019: ЕГЭ МА баз.; 2019: ВПР РУ6"


def test_sheets_are_excel_tables_with_a_print_setup_and_highlights(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con)], "Заголовок", "r1")
    sheet = openpyxl.load_workbook(path)["Лист «1»"]
    table = sheet.tables["marts"]
    assert table.ref == "A1:H4" and table.autoFilter is not None
    assert [c.name for c in table.tableColumns] == HEADERS
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0
    assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the default, left out of the file
    assert sheet.print_title_rows == "$1:$1"
    rules = {str(r.sqref): [rule.formula for rule in r.rules] for r in sheet.conditional_formatting}
    assert rules == {"A2:H4": [['$E2="да"']]}


def test_a_large_workbook_is_streamed_with_filters_instead_of_tables(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con)], "Заголовок", "r1", in_memory_rows=2)
    in_memory = tmp_path / "in_memory.xlsx"
    write_workbook(con, in_memory, [sheet_of(con)], "Заголовок", "r1")
    streamed, kept = openpyxl.load_workbook(path)["Лист «1»"], openpyxl.load_workbook(in_memory)["Лист «1»"]
    assert not streamed.tables and streamed.auto_filter.ref == "A1:H4"
    assert list(streamed.iter_rows(values_only=True)) == list(kept.iter_rows(values_only=True))
    assert streamed["D2"].number_format == "0.0%" and streamed.freeze_panes == "C2"


def test_calamine_reads_what_openpyxl_reads(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con)], "Заголовок", "r1")
    frame = pd.read_excel(path, sheet_name="Лист «1»", engine="calamine")
    assert list(frame["Логин ОО"]) == ["sch1", "sch2", "sch3"]
    assert list(frame["Год"]) == [2024, 2023, 2022]
    assert frame["Наименование ОО"].iloc[0] == TRICKY_TEXT.replace("\x01", "")


def test_every_part_is_well_formed_and_declared(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con), sheet_of(con, "Второй", key="second")], "Заголовок & итог", "r1")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for name in names:
            ElementTree.fromstring(archive.read(name))
        types = archive.read("[Content_Types].xml").decode()
    assert all(
        f'PartName="/{name}"' in types for name in names if name.startswith(("xl/worksheets/sheet", "xl/tables/"))
    )
    assert [n for n in names if not n.endswith(".xml") and not n.endswith(".rels")] == []


def test_contents_sheet_names_the_release_and_links_every_sheet_with_its_row_count(con, tmp_path):
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con), sheet_of(con, "Второй", key="second")], "Заголовок", "r1")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SUMMARY_SHEET, CONTENTS_SHEET, "Лист «1»", "Второй"]
    contents = book[CONTENTS_SHEET]
    assert contents["A1"].value == "Заголовок" and contents["A1"].font.sz == 14
    assert contents["A2"].value.startswith("Выпуск r1, сформирован ")
    assert [contents[f"A{r}"].value for r in (5, 6, 7)] == [SUMMARY_SHEET, "Лист «1»", "Второй"]
    assert [contents[f"C{r}"].value for r in (6, 7)] == [3, 3]
    assert contents["A6"].hyperlink.location == "'Лист «1»'!A1"
    assert book[SUMMARY_SHEET]["A2"].value.startswith("Выпуск r1")


def test_a_table_too_large_for_a_sheet_points_to_its_parquet_file(con, tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "EXCEL_MAX_ROWS", 2)
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet_of(con)], "Заголовок", "r1")
    sheet = openpyxl.load_workbook(path)["Лист «1»"]
    assert sheet.max_row == 1 and "parquet/marts.parquet" in sheet["A1"].value
    assert "3 строк" in sheet["A1"].value


FORMULAS = ['=HYPERLINK("http://example.org","ссылка")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1"]


@pytest.mark.parametrize("in_memory_rows", [1000, 0], ids=["in memory", "streamed"])
def test_text_that_looks_like_a_formula_is_written_so_spreadsheets_never_evaluate_it(tmp_path, in_memory_rows):
    con = duckdb.connect()
    con.execute("create table marts (login varchar, comment varchar)")
    con.executemany(
        "insert into marts values (?, ?)", [[f"sch{n}", text] for n, text in enumerate([*FORMULAS, "обычный"])]
    )
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() where table_name = 'marts' order by column_index"
    ).fetchall()
    sheet = Sheet(
        name="Лист",
        title="Т",
        headers=["Логин", "Комментарий"],
        table="marts",
        columns=columns,
        rows=len(FORMULAS) + 1,
        freeze_columns=1,
        note="",
        full_table="parquet/marts.parquet",
    )
    path = tmp_path / "book.xlsx"
    write_workbook(con, path, [sheet], "Заголовок", "r1", in_memory_rows=in_memory_rows)

    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet3.xml").decode()
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
    book = openpyxl.load_workbook(path)["Лист"]
    assert [book.cell(row, 2).value for row in range(2, len(FORMULAS) + 2)] == FORMULAS  # kept exactly as typed
    assert all(
        book.cell(row, 2).data_type == "s" and book.cell(row, 2).quotePrefix for row in range(2, len(FORMULAS) + 2)
    )
    assert not book.cell(len(FORMULAS) + 2, 2).quotePrefix  # ordinary text keeps the ordinary style


def test_file_names_of_territories_are_safe():
    assert file_name("Город N/Москва: «центр»") == "Город N_Москва_ _центр_.xlsx"
    assert file_name(None) == "Без муниципалитета.xlsx"


@pytest.mark.parametrize("workers", [1, 2], ids=["one process", "two processes"])
def test_above_the_threshold_each_territory_gets_a_workbook_of_its_schools(tmp_path, workers):
    con = duckdb.connect()
    con.execute("""create table flags as select * from (values
        (2024, 'sch1', 'Северный', true), (2024, 'sch2', 'Южный', false), (2024, 'sch3', 'Южный', true),
        (2024, 'sch4', null, false)) as t(year, login, municipality, is_shnor_computed)""")
    con.execute("""create table components as select * from (values
        (2024, 'sch1', 'Сельская местность'), (2024, 'sch3', 'ОВЗ'), (2024, 'sch3', 'Сельская местность'))
        as t(year, login, component_name)""")
    con.execute("create table kpis as select 2024 as year, 'Северный' as municipality, 0.5::double as share_pct")
    (tmp_path / "parquet").mkdir()
    for table in ("flags", "components", "kpis"):  # what worker processes read
        con.execute(f"copy {table} to '{tmp_path / 'parquet' / table}.parquet' (format parquet)")

    def sheet(table, name, headers, rows):
        columns = con.execute(
            "select column_name, data_type from duckdb_columns() where table_name = ? order by column_index", [table]
        ).fetchall()
        return Sheet(
            name=name,
            title=name,
            headers=headers,
            table=table,
            columns=columns,
            rows=rows,
            freeze_columns=1,
            note="",
            full_table=f"parquet/{table}.parquet",
            key=table,
        )

    sheets = [
        sheet("flags", "ШНОР", ["Год", "Логин", "Муниципалитет", "ШНОР"], 4),
        sheet("components", "Компоненты", ["Год", "Логин", "Компонент"], 3),
        sheet("kpis", "Показатели", ["Год", "Муниципалитет", "Доля, %"], 1),
    ]
    done = write_workbooks(
        con,
        tmp_path,
        "main.xlsx",
        sheets,
        "Заголовок",
        "r1",
        split_column="municipality",
        split_above_rows=6,
        folder="excel",
        in_memory_rows=1000,
        workers=workers,
    )

    assert set(done.territories) == {"Северный", "Южный", "Без муниципалитета"}
    south = openpyxl.load_workbook(done.territories["Южный"])
    assert south.sheetnames == [SUMMARY_SHEET, CONTENTS_SHEET, "ШНОР", "Компоненты"]
    assert [r[1] for r in south["ШНОР"].iter_rows(min_row=2, values_only=True)] == ["sch2", "sch3"]
    assert [r[1:] for r in south["Компоненты"].iter_rows(min_row=2, values_only=True)] == [
        ("sch3", "ОВЗ"),
        ("sch3", "Сельская местность"),
    ]
    assert south[SUMMARY_SHEET]["A3"].value == "Муниципалитет: Южный"
    main = openpyxl.load_workbook(tmp_path / "main.xlsx")
    assert main.sheetnames == [SUMMARY_SHEET, CONTENTS_SHEET, "Показатели"]
    # relative links to files, in the Windows form Excel expects
    links = {
        c.value: c.hyperlink.target.replace("\\", "/").replace("%20", " ")
        for c in main[CONTENTS_SHEET]["A"]
        if c.hyperlink and c.hyperlink.target
    }
    assert links == {name: path.relative_to(tmp_path).as_posix() for name, path in done.territories.items()}
    assert all(path.parent == tmp_path / "excel" for path in done.territories.values())
    # every school-level row is in exactly one territory's workbook
    rows = sum(openpyxl.load_workbook(p)["ШНОР"].max_row - 1 for p in done.territories.values())
    assert done.cells == 4 * 4 - 1 + 3 * 3 + 3  # sch4 has no municipality
    assert [c.value for c in main[CONTENTS_SHEET]["C"] if isinstance(c.value, int)][-3:] == [2, 4, 1]  # rows of each
    assert (
        rows == 4
        and con.execute("select count(*) from duckdb_tables() where table_name like '_workbook%'").fetchone()[0] == 0
    )


def test_below_the_threshold_one_workbook_holds_everything(con, tmp_path):
    done = write_workbooks(
        con,
        tmp_path,
        "main.xlsx",
        [sheet_of(con)],
        "Заголовок",
        "r1",
        split_column="municipality",
        split_above_rows=3,
        folder="excel",
        in_memory_rows=1000,
    )
    assert done.territories == {} and not (tmp_path / "excel").exists()
    assert openpyxl.load_workbook(done.main).sheetnames == [SUMMARY_SHEET, CONTENTS_SHEET, "Лист «1»"]
    assert done.cells == 3 * 8 - 8 and done.seconds > 0
