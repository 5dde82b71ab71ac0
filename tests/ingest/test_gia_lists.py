"""РЦОИ result lists («ведомости»): the real lists read unchanged, every layout variant, appeals, the key,
the crosswalk, and no personal data anywhere the ingestion writes."""

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.gia_lists import parse_list, participant_code
from pipelines.ingest.load import load_landing
from pipelines.ingest.readers import ReadError
from tests.ingest.conftest import REPO_ROOT, write_xlsx

KEY = "test-key"
SOURCES = {"schools", "gia_school_codes", "gia_results"}
SHARED_REAL = Path(os.environ.get("SHARED_REAL_DIR") or REPO_ROOT.parent / "shared" / "real")
REAL_GIA = SHARED_REAL / "gia"
needs_real = pytest.mark.skipif(
    not REAL_GIA.is_dir(),
    reason=f"the real РЦОИ lists are not here: {REAL_GIA} (set SHARED_REAL_DIR to the folder holding gia/)",
)
SURNAMES = ("Иванов", "Петров", "Смирнов", "Кузнецова")
NAMES = ("Иван", "Петр", "Семен", "Викторович", "Иванович", "Петрович")
DOCUMENTS = ("111111", "222222", "444444", "666666", "1111 222222", "3333 444444", "123456", "654321")

# --- project-written lists, one per layout variant -------------------------------------------------------------

SPACED = [  # ЕГЭ Russian with spacer columns, empty cells before the title and every footer
    ";;01 - Русский язык 2023.05.29;;;;;;;;;;;;;;;;;",
    "№;;Код МСУ;;Код ОО;;Класс;;Фамилия;Имя;Отчество;;Серия;;Номер;;Первичный балл;;Балл",
    "1;;111;;111001;;11А;;Кузнецова;Анна;Сергеевна;;4510;;123456;;30;;62",
    "2;;111;;111002;;11Б;;Петров;Петр;Петрович;;4511;;654321;;5;;20",
    "Средние;;;;;;;;;;;;;;;;17,5;;41",
    "Минимальная граница;;;;;;;;;;;;;;;;;;24",
    "Всего участников;;;;;;;;;;;;;;;;2;;",
]
BASE_MATHS_NO_FOOTER = [
    "22 - Математика базовая 2023.06.01;;;;;;;;",
    "№;Код ОО;Класс;Фамилия;Имя;Отчество;Серия;Номер;Первичный балл;Оценка",
    "1;111001;11А;Кузнецова;Анна;Сергеевна;4510;123456;15;4",
    "2;111002;11Б;Петров;Петр;Петрович;4511;654321;5;2",
]
OGE = [
    "Результаты ОГЭ;;;;;;;",
    "02 - Математика 2023.06.02;;;;;;;",
    "№;Код ОО;Класс;Фамилия;Имя;Отчество;Документ;Первичный балл;Оценка",
    "1;111001;9А;Кузнецова;Анна;Сергеевна;4510 123456;20;4",
    "2;111003;9Б;Петров;Петр;Петрович;4511 654321;6;2",
]
GVE_BY_NAME = [  # the exam type only in the file name
    "01 - Русский язык 2023.05.24;;;;;;",
    "№;Код ОО;Класс;Фамилия;Имя;Отчество;Документ;Первичный балл;Оценка",
    "1;111001;9А;Кузнецова;Анна;Сергеевна;4510 123456;12;4",
]
UNKNOWN_EXAM = GVE_BY_NAME
ENGLISH = [
    '"Английский язык п:2023.06.14; у:2023.06.16";;;;;;;;;;',
    "№;Фамилия;;Имя;;Отчество;;Документ;Код ОО;Класс;Первичный балл устной части;Первичный балл письм. части;"
    "Первичный балл;Тестовый балл",
    "1;Кузнецова;;Анна;;Сергеевна;;4510 123456;111001;11А;12;50;62;68",
]
APPEAL = [
    ";;;;;;;01 - Русский язык 2023.05.29;;;;;;;;;;;",
    "№;Код ОО;Класс;Код ППЭ;Аудитория;Фамилия;Имя;;Отчество;Документ;Тип апелляции / перепроверки;Состояние;;"
    "Дата отправки на обработку;Дата изменений;Балл до изменения;Текущие;;Разница",
    ";;;;;;;;;;;;;;;;Первичный балл;Балл;",
    "1;111002;11Б;1111;0002;Петров;Петр;;Петрович;4511 654321;Апелляция на результат;Апелляция удовлетворена;;"
    "02.06.2023 16:55:40;05.06.2023 9:54:41;20;9;26;6",
]
CROSSWALK = [
    ["Год", "Логин", "Наименование ОО", "Код ОО", "Код ОГЭ", "Код ЕГЭ"],
    [2023, "sch860001", "МБОУ «СОШ № 1»", "111001", None, None],
    [2023, "sch860002", "МКОУ «ООШ с. Киевка»", "111002", None, None],
    [2023, "sch860003", "МБОУ «Гимназия № 3»", None, "111003", None],
]


def write_list(landing, name: str, lines: list[str], encoding="cp1251") -> Path:
    path = landing.root / "gia" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    return path


def crosswalk(landing, rows=CROSSWALK) -> Path:
    return write_xlsx(landing.root / "registry" / "gia_school_codes.xlsx", "Коды ОО", rows)


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("PARTICIPANT_CODE_SALT", KEY)
    return KEY


def results(con, file: str) -> list[tuple]:
    return con.execute(
        "select exam_type, subject_code, exam_date::varchar, school_code, primary_score, test_score, "
        "mark, min_score from raw.gia_results where _source_file = ? order by _row_number",
        [file],
    ).fetchall()


# --- the real lists ---------------------------------------------------------------------------------------------

REAL = {  # file: (kind, exam, subject, date, footer minimum, rows as (Код ОО, primary, test score, mark))
    "rus_2022_ege_vedomost.csv": ("results", "ЕГЭ", 1, "2022-06-23", 24.0, [("111002", 6, 39, None)]),
    "mathbase_2022_ege_vedomost.csv": (
        "results",
        "ЕГЭ",
        22,
        "2022-06-27",
        None,
        [("111001", 13, None, 4), ("111001", 6, None, 2), ("111002", 13, None, 4)],
    ),
    "kege_2021_vedomost.csv": ("results", "ЕГЭ", 25, "2021-06-24", None, [("111001", 16, 65, None)]),
    "eng_2021_ege_vedomost.csv": ("results", "ЕГЭ", 9, "2021-06-18", None, [("111001", 29, 29, None)]),
    "eng_2022_ege_vedomost.csv": (
        "results",
        "ЕГЭ",
        9,
        "2022-06-14",
        None,
        [("111001", 56, 56, None), ("111002", 39, 39, None), ("111002", 39, 39, None)],
    ),
    "obsh_2021_appeals.csv": ("appeals", "ЕГЭ", 12, "2021-06-15", None, None),
}


def _number(value):
    return None if value is None or value != value else int(value)


@needs_real
@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_list_is_read_unchanged(name):
    kind, exam, subject, date, minimum, rows = REAL[name]
    parsed = parse_list(name, (REAL_GIA / name).read_bytes(), KEY)
    assert (parsed.kind, parsed.exam_type, parsed.subject_code, str(parsed.exam_date)) == (kind, exam, subject, date)
    assert parsed.footer.get("minimum", (None, None))[1] == minimum
    assert not set(parsed.frame.columns) & {
        "surname",
        "first_name",
        "patronymic",
        "document",
        "document_series",
        "document_number",
    }
    if rows is not None:
        got = [
            (
                r.school_code,
                _number(r.primary_score),
                _number(getattr(r, "test_score", None)),
                _number(getattr(r, "mark", None)),
            )
            for r in parsed.frame.itertuples()
        ]
        assert got == rows
    else:
        row = parsed.frame.iloc[0]
        assert (row.school_code, row.score_before, row.primary_score_after, row.test_score_after) == (
            "111002",
            41,
            22,
            42,
        )


@needs_real
def test_the_real_lists_load_with_a_crosswalk_and_the_appeal_updates_its_score(empty_landing, con, key, tmp_path):
    empty_landing.registry()
    crosswalk(
        empty_landing,
        [
            CROSSWALK[0],
            *[
                [year, login, None, code, None, None]
                for year in (2021, 2022)
                for login, code in (("sch860001", "111001"), ("sch860002", "111002"))
            ],
        ],
    )
    (empty_landing.root / "gia").mkdir(parents=True)
    for path in REAL_GIA.glob("*.csv"):
        shutil.copy(path, empty_landing.root / "gia" / path.name)

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert report.files_quarantined == []
    assert report.rows_written == 10  # 9 participant rows and one appeal
    assert con.execute("select count(*) from raw.gia_appeals").fetchall() == [(1,)]
    warnings = {(i.file, i.rule) for i in report.issues}
    assert ("gia/mathbase_2022_ege_vedomost.csv", "gia_participants_total") in warnings  # footer says 11, 3 rows
    assert not any(i.file == "gia/rus_2022_ege_vedomost.csv" for i in report.issues)  # 24 is the 2022 minimum
    # the Russian 2022 participant's document is the appeal's: codes are one HMAC across lists
    [(code,)] = con.execute("select participant_code from raw.gia_results where subject_code = 1").fetchall()
    assert code == participant_code("1111222222", KEY)
    assert con.execute("select participant_code from raw.gia_appeals").fetchall() == [(code,)]


# --- project-written variants ----------------------------------------------------------------------------------


def test_every_layout_variant_is_read_with_its_exam_and_scores(empty_landing, con, key):
    empty_landing.registry()
    crosswalk(empty_landing)
    write_list(empty_landing, "spaced.csv", SPACED)
    write_list(empty_landing, "2023/base.csv", BASE_MATHS_NO_FOOTER, encoding="utf-8-sig")
    write_list(empty_landing, "oge_math.csv", OGE)
    write_list(empty_landing, "russkiy_gve.csv", GVE_BY_NAME)
    write_list(empty_landing, "english.csv", ENGLISH)

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert report.files_quarantined == []
    assert results(con, "gia/spaced.csv") == [
        ("ЕГЭ", 1, "2023-05-29", "111001", 30, 62, None, 24),
        ("ЕГЭ", 1, "2023-05-29", "111002", 5, 20, None, 24),
    ]
    assert results(con, "gia/2023/base.csv") == [
        ("ЕГЭ", 22, "2023-06-01", "111001", 15, None, 4, None),
        ("ЕГЭ", 22, "2023-06-01", "111002", 5, None, 2, None),
    ]
    assert results(con, "gia/oge_math.csv") == [
        ("ОГЭ", 2, "2023-06-02", "111001", 20, None, 4, None),
        ("ОГЭ", 2, "2023-06-02", "111003", 6, None, 2, None),
    ]
    assert results(con, "gia/russkiy_gve.csv") == [("ГВЭ", 1, "2023-05-24", "111001", 12, None, 4, None)]
    assert results(con, "gia/english.csv") == [("ЕГЭ", 9, "2023-06-14", "111001", 62, 68, None, None)]
    assert con.execute(
        "select primary_score_oral, primary_score_written from raw.gia_results where subject_code = 9"
    ).fetchall() == [(12, 50)]
    # one participant, one code in every list: «4510 123456» and Серия 4510 + Номер 123456
    assert con.execute(
        "select count(distinct participant_code) from raw.gia_results where school_code = '111001'"
    ).fetchall() == [(1,)]


def test_a_list_whose_exam_type_cannot_be_told_is_reported(empty_landing, con, key):
    empty_landing.registry()
    write_list(empty_landing, "russkiy.csv", UNKNOWN_EXAM)

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert report.files_quarantined == ["gia/russkiy.csv"]
    [issue] = report.issues
    assert issue.rule == "gia_exam_type" and "the exam type cannot be told" in issue.message


def test_a_title_contradicting_the_columns_is_reported(empty_landing, con, key):
    empty_landing.registry()
    write_list(empty_landing, "x.csv", ["Результаты ОГЭ", *SPACED])
    [issue] = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"].issues
    assert issue.rule == "gia_exam_type" and "the title says ОГЭ" in issue.message


def test_without_a_key_a_list_with_documents_is_refused_and_says_how_to_set_one(empty_landing, con, monkeypatch):
    monkeypatch.delenv("PARTICIPANT_CODE_SALT", raising=False)
    empty_landing.registry()
    write_list(empty_landing, "spaced.csv", SPACED)

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert report.files_quarantined == ["gia/spaced.csv"]
    [issue] = report.issues
    assert issue.rule == "participant_key"
    assert "PARTICIPANT_CODE_SALT" in issue.message and "export" in issue.message
    assert con.execute("select count(*) from raw.gia_results").fetchall() == [(0,)]


def test_the_key_is_read_when_the_list_is_loaded_not_at_import(empty_landing, con, monkeypatch):
    empty_landing.registry()
    write_list(empty_landing, "spaced.csv", SPACED)
    monkeypatch.setenv("PARTICIPANT_CODE_SALT", "another")
    load_landing(empty_landing.root, con, sources=SOURCES)
    codes = {c for (c,) in con.execute("select participant_code from raw.gia_results").fetchall()}
    assert codes == {participant_code("4510123456", "another"), participant_code("4511654321", "another")}


def test_a_minimum_disagreeing_with_the_seed_is_a_warning(empty_landing, con, key):
    empty_landing.registry()
    write_list(empty_landing, "spaced.csv", [line.replace(";;;;24", ";;;;36") for line in SPACED])
    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]
    assert report.files_loaded == ["gia/spaced.csv"]
    [issue] = report.issues
    assert (issue.rule, issue.severity, issue.row) == ("gia_minimum", "warning", 6)
    assert "differs from the configured minimum 24" in issue.message


def test_bad_cells_are_named_by_row_and_column_never_by_personal_values(empty_landing, con, key):
    empty_landing.registry()
    bad = [
        *SPACED[:2],
        SPACED[2].replace(";;62", ";;162"),
        SPACED[2].replace(";;30;;", ";;31;;"),
        SPACED[3].replace("654321", ""),
    ]
    write_list(empty_landing, "spaced.csv", bad)

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert report.files_quarantined == ["gia/spaced.csv"]
    messages = sorted(i.message for i in report.issues)
    assert "gia/spaced.csv, line 3, column «Балл»: value 162 is outside the test score range 0–100" in messages
    assert (
        "gia/spaced.csv, line 4, column «Документ»: the same document as line 3 "
        "(a second row for one participant)" in messages
    )
    assert not any(word in message for message in messages for word in (*SURNAMES, "Анна", "4510", "123456"))
    stored = con.execute("select string_agg(message || coalesce(value, ''), ' ') from ops.quarantine").fetchall()[0][0]
    assert not any(word in stored for word in (*SURNAMES, "Анна", "Сергеевна", "123456", "654321"))


def test_an_unmapped_school_code_keeps_its_rows_aside_until_mapped(empty_landing, con, key):
    empty_landing.registry()
    crosswalk(empty_landing, CROSSWALK[:2])  # 111002 not mapped
    write_list(empty_landing, "spaced.csv", SPACED)

    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]

    assert report.notes == [
        "gia/spaced.csv: school code 111002 is not in registry/gia_school_codes.xlsx for 2023 "
        "(lines 4); its 1 row(s) are kept aside until it is mapped"
    ]
    # both rows are stored, with their РЦОИ code: dbt maps them (stg_gia_results) and lists the unmapped ones
    assert con.execute("select school_code, login from raw.gia_results order by _row_number").fetchall() == [
        ("111001", None),
        ("111002", None),
    ]
    unmapped = con.execute("""
        select r._source_file, r._row_number, r.school_code from raw.gia_results r
        where not exists (select 1 from raw.gia_school_codes c where c.year = r.year and c.school_code = r.school_code)
        """).fetchall()
    assert unmapped == [("gia/spaced.csv", 4, "111002")]


def test_an_appeals_list_is_kept_as_history(empty_landing, con, key):
    empty_landing.registry()
    write_list(empty_landing, "spaced.csv", SPACED)
    write_list(empty_landing, "appeal.csv", APPEAL)

    load_landing(empty_landing.root, con, sources=SOURCES)

    assert con.execute(
        "select exam_type, subject_code, school_code, appeal_state, score_before, primary_score_after, "
        "test_score_after, score_difference, participant_code from raw.gia_appeals"
    ).fetchall() == [("ЕГЭ", 1, "111002", "Апелляция удовлетворена", 20, 9, 26, 6, participant_code("4511654321", KEY))]
    assert con.execute("select count(*) from raw.gia_results").fetchall() == [(2,)]  # the appeal adds no result row


def test_the_same_list_twice_under_another_name_is_reported(empty_landing, con, key):
    empty_landing.registry()
    write_list(empty_landing, "a.csv", SPACED)
    load_landing(empty_landing.root, con, sources=SOURCES)
    write_list(empty_landing, "b.csv", SPACED)
    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"]
    assert report.files_quarantined == ["gia/b.csv"]
    assert {i.rule for i in report.issues} == {"loaded_elsewhere"}


def test_no_personal_value_reaches_the_warehouse(empty_landing, con, key, tmp_path):
    empty_landing.registry()
    crosswalk(empty_landing)
    for name, lines in (("spaced.csv", SPACED), ("oge.csv", OGE), ("english.csv", ENGLISH), ("appeal.csv", APPEAL)):
        write_list(empty_landing, name, lines)
    load_landing(empty_landing.root, con, sources=SOURCES)
    con.close()

    data = (tmp_path / "warehouse.duckdb").read_bytes()
    for word in (*SURNAMES, "Анна", "Сергеевна", "Петрович", "4510 123456", "4511 654321", "123456", "654321"):
        assert word.encode("utf-8") not in data and word.encode("cp1251") not in data, word
    check = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    text = " ".join(
        str(v)
        for table in ("gia_results", "gia_appeals")
        for row in check.execute(f"select * from raw.{table}").fetchall()
        for v in row
    )
    assert not any(word in text for word in (*SURNAMES, "Анна", "123456", "654321"))
    check.close()


def test_the_campaign_of_a_list_comes_from_its_title(empty_landing):
    from pipelines.ingest.campaigns import campaign_of_file, campaigns_in_landing

    write_list(empty_landing, "anything.csv", SPACED)
    assert campaign_of_file("gia/anything.csv", empty_landing.root) == "2022-2023/H2"
    assert campaigns_in_landing(empty_landing.root) == ["2022-2023/H2"]


def test_a_list_without_a_title_is_reported():
    with pytest.raises(ReadError) as error:
        parse_list("x.csv", "\r\n".join(SPACED[1:]).encode("cp1251"), KEY)
    assert error.value.rule_id == "gia_title"


def test_a_list_without_documents_is_refused(empty_landing, con, key):
    empty_landing.registry()
    write_list(empty_landing, "x.csv", [SPACED[0], SPACED[1].replace("Серия", "С").replace("Номер", "Н"), SPACED[2]])
    [issue] = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"].issues
    assert issue.rule == "no_document" and "participants cannot be given codes" in issue.message


def test_a_school_code_that_is_not_a_code_is_reported(empty_landing, con, key):
    empty_landing.registry()
    write_list(empty_landing, "x.csv", [*SPACED[:2], SPACED[2].replace("111001", "школа 1")])
    [issue] = load_landing(empty_landing.root, con, sources=SOURCES)["gia_results"].issues
    assert issue.message == (
        "gia/x.csv, line 3, column «Код ОО»: value «школа 1» is not a РЦОИ school code such as 111001"
    )


def test_a_code_mapped_to_two_logins_is_reported(empty_landing, con):
    empty_landing.registry()
    crosswalk(empty_landing, [*CROSSWALK[:3], [2023, "sch860003", None, "111002", None, None]])
    report = load_landing(empty_landing.root, con, sources=SOURCES)["gia_school_codes"]
    assert report.files_quarantined == ["registry/gia_school_codes.xlsx"]
    assert {(i.rule, i.row) for i in report.issues} == {("code_mapped_twice", 3), ("code_mapped_twice", 4)}
