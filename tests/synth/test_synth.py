"""The synthetic data generator: determinism, documented formats, and ground truth that matches the data.

Everything is re-read from the written files (the ВПР files with calamine, in whichever real layout the
year arrives in), and the ground truth is recomputed from them independently of the generator's own
bookkeeping: ВПР marks from the primary scores through the seed scale of the year, as the files carry none.
Tests comparing with the real example files in ../shared/real are skipped when that folder is absent.
"""

import csv
import json
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from python_calamine import CalamineWorkbook

from pipelines.synth import generate
from pipelines.synth.__main__ import main, parse_years
from tests.conftest import REAL_DIR

YEARS = range(2020, 2024)
SEED = 5
SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
REAL_MARKERS = "fioko_objectivity_markers_dagestan_2023_2025.xlsx"
FIOKO_VPR = {"ВПР RU5", "ВПР MA5", "ВПР RU6", "ВПР MA6"}
GIA_LABELS = {
    ("ОГЭ", 1): "ОГЭ RU",
    ("ОГЭ", 2): "ОГЭ MA",
    ("ЕГЭ", 1): "ЕГЭ RU",
    ("ЕГЭ", 2): "ЕГЭ MA_PROF",
    ("ЕГЭ", 22): "ЕГЭ MA_BASE",
}


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    return generate("municipality", YEARS, SEED, tmp_path_factory.mktemp("landing"))


def read_titled(path: Path, first_header: str) -> pd.DataFrame:
    """Reads a sheet whose table starts at the first row whose first cell is `first_header`."""
    raw = pd.read_excel(path, header=None, engine="calamine", dtype=object)
    start = raw.index[raw[0].astype(str).str.strip() == first_header][0]
    table = raw.iloc[start + 1 :].reset_index(drop=True)
    table.columns = [str(c).strip() for c in raw.iloc[start]]
    return table


GIA_COLUMNS = [
    "Год",
    "Тип экзамена",
    "Код предмета",
    "Логин ОО",
    "Код участника",
    "Первичный балл",
    "Тестовый балл",
    "Отметка",
    "Минимальный балл",
    "Процент выполнения",
    "Пересдача",
    "Форма",
]
LIST_KEY = "synth-test-key"


def read_gia(landing: Path, year: int) -> pd.DataFrame:
    """A year's ГИА rows as the CSV layout has them: the РЦОИ lists read with the pipeline's reader (a later
    list of an exam is its retake day; logins through the crosswalk), plus the CSV layout's school marks."""
    from pipelines.ingest.gia_lists import parse_list

    crosswalk = read_titled(landing / "registry" / "gia_school_codes.xlsx", "Год")
    crosswalk = crosswalk[crosswalk["Год"].astype(int) == year]
    login_of = dict(zip(crosswalk["Код ОО"].astype(str), crosswalk["Логин"]))
    parsed = [parse_list(p.name, p.read_bytes(), LIST_KEY) for p in sorted((landing / "gia" / str(year)).glob("*.csv"))]
    first_day = {}
    for lst in parsed:
        if lst.kind == "results":
            key = (lst.exam_type, lst.subject_code)
            first_day[key] = min(first_day.get(key, lst.exam_date), lst.exam_date)
    frames = []
    for lst in (p for p in parsed if p.kind == "results"):
        f = lst.frame
        frames.append(
            pd.DataFrame(
                {
                    "Год": lst.year,
                    "Тип экзамена": lst.exam_type,
                    "Код предмета": lst.subject_code,
                    "Логин ОО": f["school_code"].map(login_of),
                    "Код участника": f["participant_code"],
                    "Первичный балл": pd.to_numeric(f["primary_score"]),
                    "Тестовый балл": pd.to_numeric(f["test_score"]) if "test_score" in f else np.nan,
                    "Отметка": pd.to_numeric(f["mark"]) if "mark" in f else np.nan,
                    "Минимальный балл": lst.footer.get("minimum", (None, np.nan))[1],
                    "Процент выполнения": pd.to_numeric(f["percent_complete"]) if "percent_complete" in f else np.nan,
                    "Пересдача": int(lst.exam_date > first_day[(lst.exam_type, lst.subject_code)]),
                    "Форма": "экзамен",
                }
            )
        )
    csv_layout = landing / "gia" / f"gia_{year}.csv"
    if csv_layout.exists():
        frames.append(pd.read_csv(csv_layout, encoding="cp1251", sep=";", decimal=",")[GIA_COLUMNS])
    return pd.concat(frames, ignore_index=True)[GIA_COLUMNS]


A1_TAIL = [
    'Класс № (список формируется из листа "Классы")',
    "Пол",
    "Отметка за предыдущий триместр/ четверть/полугодие",
    "Итого баллов",
]
A2_PREFIX = ["Пользователь", "Код региона", "Регион", "Муниципалитет", "Школа", "Дата загрузки"]
A2_TAIL = ["Наименование класса", "Пол", "Отметка за предыдущий триместр/ четверть/полугодие", "Итого баллов"]
A3_HEAD = [
    "логин школы",
    "регион",
    "номер обучающегося",
    "код обучающегося",
    "отметка за предыдущую четверть/триместр",
    "пол",
    "класс",
    "вариант",
    "всего баллов",
]
A3_TAIL = ["Учебник", "Др.уч. автор", "Др.уч. название"]
SUBJECTS = {"Русский язык": "RU", "Математика": "MA"}
DATIVE = {"русскому языку": "RU", "математике": "MA"}
A3_NAME = re.compile(r"Проведение работы по (.+), (\d+) класс\. ВПР (\d{4})\.xlsx")
TASK_HEADER = re.compile(r"(.+) \((\d+)б\)")
NOT_ATTEMPTED = {"X", "x", "Х", "не пройд."}
ABSENT = "отсутствовал"


def real_file(name: str) -> Path:
    """A file of ../shared/real; the test is skipped with the reason when that folder is not there."""
    path = REAL_DIR / name
    if not path.exists():
        pytest.skip(f"real example files are not available ({path} is absent)")
    return path


def sheet_rows(path: Path, sheet: str | None = None) -> list[list]:
    workbook = CalamineWorkbook.from_path(str(path))
    return workbook.get_sheet_by_name(sheet or workbook.sheet_names[0]).to_python(skip_empty_area=False)


def score(value) -> int | None:
    """A task cell as a number, None when not attempted or blank (numbers arrive as float or text)."""
    if value in NOT_ATTEMPTED or value == "" or value is None:
        return None
    return int(float(value))


def _layout_of(path: Path, year_folder: Path) -> tuple[str, str, str]:
    """(layout, work code, login or '') from where the file lies and its name."""
    relative = path.relative_to(year_folder).parts
    if len(relative) == 1:
        dative, grade, year = A3_NAME.fullmatch(relative[0]).groups()
        assert year == year_folder.name
        return "A3", f"{DATIVE[dative]}{grade}", ""
    folder, name = relative
    if folder.isdigit():
        return "A2", f"{SUBJECTS[name.removesuffix('.xlsx')]}{folder}", ""
    subject, grade = re.fullmatch(r"(.+) (\d+) класс\.xlsx", name).groups()
    return "A1", f"{SUBJECTS[subject]}{grade}", folder


def read_vpr_files(landing: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every ВПР file in any of the three layouts: (participants, absent and blank template rows).

    Participants have the task scores as a list (None = not attempted); `task_max` comes from the headers
    where the layout has them (A1, A2) and from the seed otherwise (A3).
    """
    rows, others = [], []
    for year_folder in sorted((landing / "vpr").glob("[0-9][0-9][0-9][0-9]")):
        year = int(year_folder.name)
        for path in sorted(year_folder.rglob("*.xlsx")):
            layout, work, folder_login = _layout_of(path, year_folder)
            base = {"year": year, "work": work, "layout": layout, "file": str(path.relative_to(landing))}
            if layout == "A3":
                table = sheet_rows(path)
                header, body = table[0], table[1:]
                n_tasks = len(header) - len(A3_HEAD) - len(A3_TAIL)
                tasks = tuple(header[len(A3_HEAD) : len(A3_HEAD) + n_tasks])
                task_max = seed_task_max(work, year)
                for cells in body:
                    login, code, variant, total = cells[0], cells[3], cells[7], cells[8]
                    task_cells = cells[len(A3_HEAD) : len(A3_HEAD) + n_tasks]
                    if variant == ABSENT:
                        others.append({**base, "kind": "absent", "login": login, "tasks": task_cells, "total": total})
                        continue
                    rows.append(
                        {
                            **base,
                            "login": login,
                            "code": code,
                            "tasks": tasks,
                            "task_max": task_max,
                            "scores": [score(v) for v in task_cells],
                            "primary": int(total),
                            "journal": cells[4],
                            "sex": cells[5],
                            "class": cells[6],
                            "raw": task_cells,
                        }
                    )
                continue
            table = sheet_rows(path, "Протокол")
            header, body = table[0], table[1:]
            first_task = header.index("Вариант") + 1
            tail = A2_TAIL if layout == "A2" else A1_TAIL
            labels = header[first_task : len(header) - len(tail)]
            parsed = [TASK_HEADER.fullmatch(label).groups() for label in labels]
            tasks, task_max = tuple(n for n, _ in parsed), [int(m) for _, m in parsed]
            for cells in body:
                login = cells[0] if layout == "A2" else folder_login
                code, variant, total = cells[first_task - 2], cells[first_task - 1], cells[-1]
                task_cells = cells[first_task : first_task + len(labels)]
                if variant == ABSENT:
                    others.append({**base, "kind": "absent", "login": login, "tasks": task_cells, "total": total})
                    continue
                if code == "":
                    others.append({**base, "kind": "template", "login": login, "tasks": cells[:-1], "total": total})
                    continue
                rows.append(
                    {
                        **base,
                        "login": login,
                        "code": code,
                        "tasks": tasks,
                        "task_max": task_max,
                        "scores": [score(v) for v in task_cells],
                        "primary": int(total),
                        "journal": cells[-2],
                        "sex": cells[-3],
                        "class": cells[-4],
                        "raw": task_cells,
                    }
                )
    forms = pd.DataFrame(rows)
    forms["mark"] = [seed_mark(w, y, p) for w, y, p in zip(forms["work"], forms["year"], forms["primary"])]
    return forms, pd.DataFrame(others)


@pytest.fixture(scope="module")
def vpr_files(landing) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_vpr_files(landing)


@pytest.fixture(scope="module")
def forms(vpr_files) -> pd.DataFrame:
    """Participants of every ВПР file, with the mark the seed scale of the year gives their primary score."""
    return vpr_files[0]


@pytest.fixture(scope="module")
def not_written(vpr_files) -> pd.DataFrame:
    """Absent pupils and blank template rows."""
    return vpr_files[1]


@pytest.fixture(scope="module")
def truth(landing) -> dict[str, pd.DataFrame]:
    folder = landing / "ground_truth"
    return {name: pd.read_csv(folder / f"{name}.csv") for name in ("planted", "shnor_expected", "shnsu_expected")}


@cache
def seed_rows(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def work_spec(work: str, year: int) -> dict[str, str]:
    (row,) = [
        r
        for r in seed_rows("vpr_works.csv")
        if r["work_code"] == work and int(r["year_from"]) <= year <= int(r["year_to"])
    ]
    return row


def seed_tasks(work: str, year: int) -> list[dict[str, str]]:
    spec = work_spec(work, year)
    rows = [r for r in seed_rows("vpr_tasks.csv") if r["work_code"] == work and r["year_from"] == spec["year_from"]]
    return sorted(rows, key=lambda r: int(r["task_order"]))


def seed_task_max(work: str, year: int) -> list[int]:
    return [int(r["max_score"]) for r in seed_tasks(work, year)]


def seed_mark(work: str, year: int, primary: int) -> int:
    """The ВПР mark of a primary score by the seed scale of the year (the files carry no mark)."""
    spec = work_spec(work, year)
    return 2 + int(np.searchsorted([int(spec[c]) for c in ("cut_3", "cut_4", "cut_5")], primary, side="right"))


def work_results(landing: Path, forms: pd.DataFrame) -> pd.DataFrame:
    """Participants and «2» per school, year and FIOKO work label, recomputed from the files."""
    vpr = forms.assign(label="ВПР " + forms["work"], fail=forms["mark"] == 2)[["year", "login", "label", "fail"]]
    gia = []
    for year in YEARS:
        frame = read_gia(landing, year)
        frame = frame[(frame["Пересдача"] == 0) & (frame["Форма"] == "экзамен")]
        frame["label"] = [GIA_LABELS.get(key) for key in zip(frame["Тип экзамена"], frame["Код предмета"])]
        by_test = frame["Тестовый балл"].notna()
        frame["fail"] = np.where(by_test, frame["Тестовый балл"] < frame["Минимальный балл"], frame["Отметка"] == 2)
        gia.append(frame.rename(columns={"Год": "year", "Логин ОО": "login"})[["year", "login", "label", "fail"]])
    results = pd.concat([vpr, *gia]).dropna(subset=["label"])
    return results.groupby(["year", "login", "label"])["fail"].agg(participants="size", fails="sum").reset_index()


def files_of(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files_and_another_seed_does_not(landing, tmp_path):
    again = files_of(generate("municipality", YEARS, SEED, tmp_path / "again"))
    first = files_of(landing)
    assert first.keys() == again.keys()
    for name, path in first.items():
        assert path.read_bytes() == again[name].read_bytes(), name  # xlsx too: fixed creation date
    some_forms = sorted(n for n in first if n.startswith("vpr/"))[::50]
    for name in [n for n in first if n.endswith(".xlsx") and not n.startswith("vpr/")] + some_forms:
        pd.testing.assert_frame_equal(
            pd.read_excel(first[name], header=None, engine="calamine"),
            pd.read_excel(again[name], header=None, engine="calamine"),
        )

    other = files_of(generate("municipality", [2023], SEED + 1, tmp_path / "other"))
    same_year = files_of(generate("municipality", [2023], SEED, tmp_path / "same_year"))
    names = ("gia/2023/ege_01_2023-05-29.csv", "registry/schools.xlsx", "social_passport/social_passport_2023.xlsx")
    for name in names:
        assert other[name].read_bytes() != same_year[name].read_bytes(), name


def test_registry_has_the_documented_columns_and_one_new_school(landing, forms):
    registry = read_titled(landing / "registry" / "schools.xlsx", "Логин")
    assert list(registry.columns) == [
        "Логин",
        "Полное наименование",
        "Краткое наименование",
        "Муниципалитет",
        "Тип населённого пункта",
        "Тип ОО",
        "Контингент",
        "Год открытия",
    ]
    assert 25 <= len(registry) <= 35
    assert registry["Логин"].str.fullmatch(r"sch86\d{4}").all()
    assert set(registry["Тип населённого пункта"]) <= {"город", "посёлок городского типа", "село"}
    assert registry["Муниципалитет"].nunique() == 1
    assert (registry["Год открытия"] == max(YEARS) - 1).sum() == 1
    primary_only = registry.loc[registry["Тип ОО"] == "НОШ", "Логин"]
    works_of_primary_schools = set(forms.loc[forms["login"].isin(primary_only), "work"])
    assert works_of_primary_schools and all(w.endswith("4") for w in works_of_primary_schools)


def test_gia_lists_are_windows_exports_in_the_rcoi_layouts(landing):
    raw = (landing / "gia" / "2022" / "ege_01_2022-05-29.csv").read_bytes()
    assert b"\r\n" in raw and raw.decode("cp1251").startswith("01 - Русский язык 2022.05.29;")
    assert "№;;Код МСУ;;Код ОО;;Класс;;Фамилия;Имя;Отчество;;Серия;;Номер;;Первичный балл;;Балл" in raw.decode("cp1251")
    oge = (landing / "gia" / "2022" / "oge_02_2022-06-09.csv").read_bytes().decode("cp1251")
    assert oge.startswith("Результаты ОГЭ;") and "\r\n02 - Математика 2022.06.09;" in oge
    assert (landing / "gia" / "2022" / "ege_01_appeals_2022.csv").exists()
    assert not (landing / "gia" / "gia_2022.csv").exists()  # only 2020 school marks use the CSV layout
    gia = read_gia(landing, 2022)
    assert gia["Логин ОО"].notna().all()  # every code is in the crosswalk
    assert gia["Код участника"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert set(gia["Пересдача"]) == {0, 1}
    minimums = {(int(r["year"]), r["exam_type"], int(r["subject_code"])): r for r in seed_rows("gia_min_scores.csv")}
    ege = gia[(gia["Тип экзамена"] == "ЕГЭ") & gia["Тестовый балл"].notna()]
    for (exam, subject), rows in ege.groupby(["Тип экзамена", "Код предмета"]):
        assert set(rows["Минимальный балл"]) == {int(minimums[(2022, exam, subject)]["min_test_score"])}
    oge = gia[gia["Тип экзамена"] == "ОГЭ"]
    assert oge["Отметка"].between(2, 5).all() and oge["Тестовый балл"].isna().all()
    assert oge["Процент выполнения"].between(0, 100).all()


def test_the_school_marks_of_2020_keep_the_csv_layout(landing):
    raw = (landing / "gia" / "gia_2020.csv").read_bytes()
    assert b"\r\n" in raw and raw.decode("cp1251").startswith("Год;Тип экзамена;Код предмета;Предмет;Логин ОО")
    gia = pd.read_csv(landing / "gia" / "gia_2020.csv", encoding="cp1251", sep=";", decimal=",")
    assert set(gia["Форма"]) == {"промежуточная аттестация"} and set(gia["Тип экзамена"]) <= {"ОГЭ", "ГВЭ"}


def test_base_maths_is_not_held_in_2021(landing):
    assert not list((landing / "gia" / "2021").glob("ege_22_*.csv"))
    assert list((landing / "gia" / "2022").glob("ege_22_*.csv"))


def test_2020_oge_rows_are_school_marks_and_base_maths_is_absent(landing):
    gia = read_gia(landing, 2020)
    oge = gia[gia["Тип экзамена"] == "ОГЭ"]
    assert len(oge) > 0 and (oge["Форма"] == "промежуточная аттестация").all()
    assert oge[["Первичный балл", "Тестовый балл", "Процент выполнения"]].isna().all().all()
    assert oge["Отметка"].between(3, 5).all()
    assert 22 not in set(gia["Код предмета"])
    assert (gia.loc[gia["Тип экзамена"] == "ЕГЭ", "Форма"] == "экзамен").all()


def test_vpr_files_follow_the_seed_specification(forms):
    for (year, work), group in forms.groupby(["year", "work"]):
        task_rows = seed_tasks(work, year)
        if group["layout"].iloc[0] == "A3":
            assert group["tasks"].iloc[0] == tuple(f"балл за {i}" for i in range(1, len(task_rows) + 1))
        else:
            assert group["tasks"].iloc[0] == tuple(r["task_number"] for r in task_rows)
        assert list(group["task_max"].iloc[0]) == [int(r["max_score"]) for r in task_rows]
        assert (group["primary"] == group["scores"].map(lambda s: sum(v or 0 for v in s))).all(), (year, work)
        maxima = group["task_max"].iloc[0]
        assert (
            group["scores"].map(lambda s, maxima=maxima: all(v is None or 0 <= v <= m for v, m in zip(s, maxima))).all()
        )
    blanks = forms["scores"].map(lambda s: sum(v is None for v in s)).sum() / forms["scores"].map(len).sum()
    assert 0.01 < blanks < 0.05
    assert not forms.duplicated(["year", "login", "work", "code"]).any()


def test_each_year_arrives_in_its_layout_and_no_file_carries_a_vpr_mark(landing, forms):
    layouts = forms.groupby("year")["layout"].agg(set).to_dict()
    assert layouts == {2020: {"A3"}, 2021: {"A3"}, 2022: {"A2"}, 2023: {"A1"}}
    files = {str(p.relative_to(landing)) for p in (landing / "vpr").rglob("*.xlsx")}
    assert "vpr/2021/Проведение работы по математике, 5 класс. ВПР 2021.xlsx" in files
    assert "vpr/2021/Проведение работы по русскому языку, 4 класс. ВПР 2021.xlsx" in files
    assert "vpr/2022/5/Математика.xlsx" in files and "vpr/2022/4/Русский язык.xlsx" in files
    a1 = forms[forms["layout"] == "A1"]
    assert set(a1["file"]) == {
        f"vpr/2023/{r.login}/{'Математика' if r.work[:2] == 'MA' else 'Русский язык'} {r.work[2:]} класс.xlsx"
        for r in a1.drop_duplicates(["login", "work"]).itertuples()
    }
    assert len(files) == forms["file"].nunique() == 2 * 6 + 6 + len(set(a1["file"]))  # A3 2020–2021, A2 2022, A1 2023
    for path in (landing / "vpr").rglob("*.xlsx"):
        workbook = CalamineWorkbook.from_path(str(path))
        for sheet in workbook.sheet_names:
            header = workbook.get_sheet_by_name(sheet).to_python()[0]
            assert not any("тметка" in str(h) and "предыдущ" not in str(h) for h in header), path
    assert not (landing / "vpr" / "vpr_2023.parquet").exists()


def test_a1_forms_have_the_protocol_header_absent_pupils_and_blank_template_rows(landing, forms, not_written):
    path = next((landing / "vpr" / "2023").glob("*/Математика 5 класс.xlsx"))
    workbook = CalamineWorkbook.from_path(str(path))
    assert workbook.sheet_names == ["Протокол"]
    header = sheet_rows(path)[0]
    labels = [f"{r['task_number']} ({r['max_score']}б)" for r in seed_tasks("MA5", 2023)]
    assert header == ["Код", "Вариант", *labels, *A1_TAIL]
    ru4 = sheet_rows(next((landing / "vpr" / "2023").glob("*/Русский язык 4 класс.xlsx")))[0]
    assert ru4[2] == "1К1 (4б)" and "3(1) (1б)" in ru4

    a1 = forms[forms["layout"] == "A1"]
    assert all(isinstance(c, float) and c > 0 for c in a1["code"])
    assert (a1["code"] // 10000 == a1["work"].str[2:].astype(int)).all()  # grade·10000 + n, as the real forms
    assert set(a1["sex"]) == {"м", "ж"}
    assert a1["class"].map(lambda c: isinstance(c, float) and c >= 1).all()  # the class's ordinal number
    assert set(a1["journal"]) - {2.0, 3.0, 4.0, 5.0} <= {"нет отметки", ""}
    raw = {v for cells in a1["raw"] for v in cells if not isinstance(v, float)}
    assert raw == {"X", ""}  # 'X', or blank in some forms
    blank_forms = a1.groupby("file")["raw"].agg(lambda cells: any("" in c for c in cells))
    assert 0 < blank_forms.mean() < 0.5

    others = not_written[not_written["layout"] == "A1"]
    absent = others[others["kind"] == "absent"]
    assert len(absent) and (absent["total"] == 0).all()
    assert absent["tasks"].map(lambda cells: all(v == "" for v in cells)).all()
    template = others[others["kind"] == "template"]
    assert set(template["file"]) == set(a1["file"])  # every form ends with its blank rows
    assert (template["total"] == 0).all() and template["tasks"].map(lambda c: all(v == "" for v in c)).all()
    for file, _ in a1.groupby("file"):
        body = sheet_rows(landing / file)[1:]
        first_template = next(i for i, row in enumerate(body) if row[0] == "")
        assert all(row[0] == "" for row in body[first_template:]), file


def test_a1_form_headers_are_those_of_the_real_form():
    real = sheet_rows(real_file("vpr/protocol_form.xlsx"))[0]
    assert real[:2] == ["Код", "Вариант"] and real[-len(A1_TAIL) :] == A1_TAIL
    real_2026 = sheet_rows(real_file("vpr/protocol_form_2026_blank_EN8.xlsx"))[0]
    real_2026 = [h for h in real_2026 if h != ""]
    assert real_2026[:2] == ["Код участника", "Вариант"]
    assert real_2026[-3:] == [
        "Порядковый номер класса",
        "Отметка за предыдущий триместр/ четверть/полугодие",
        "Итого баллов",
    ]


def test_from_2026_the_form_has_the_2026_header_and_its_service_sheet(tmp_path):
    from pipelines.synth.plan import Plan
    from pipelines.synth.schools import build_schools, cohort_counts
    from pipelines.synth.vpr import generate_vpr
    from pipelines.synth.vpr_files import a1_payloads, write_a1_forms

    schools = build_schools("municipality", SEED, 2026)
    batch = generate_vpr(schools, Plan(), cohort_counts(schools, SEED, 2026), 2026, "RU4", SEED)
    payloads = a1_payloads(batch, schools, SEED)
    write_a1_forms(tmp_path, payloads)
    paths = sorted((tmp_path / "vpr" / "2026").glob("*/Русский язык 4 класс.xlsx"))
    assert len(paths) == len(payloads) > 0
    workbook = CalamineWorkbook.from_path(str(paths[0]))
    assert workbook.sheet_names == ["Протокол", "Служебный", "Порядковый номер класса"]
    header = sheet_rows(paths[0])[0]
    labels = [f"{r['task_number']} ({r['max_score']}б)" for r in seed_tasks("RU4", 2026)]
    assert header == [
        "Код участника",
        "Вариант",
        *labels,
        "Порядковый номер класса",
        "Отметка за предыдущий триместр/ четверть/полугодие",
        "Итого баллов",
    ]
    service = sheet_rows(paths[0], "Служебный")
    assert [row[0] for row in service[:3]] == [1.0, 2.0, "отсутствовал"]
    assert "X" in [row[1] for row in service] and "нет отметки" in [row[-1] for row in service]
    for path in paths:
        for row in sheet_rows(path)[1:]:
            if row[0] != "" and row[1] != "отсутствовал":
                scores = [score(v) for v in row[2 : 2 + len(labels)]]
                assert sum(v or 0 for v in scores) == row[-1]
                assert isinstance(row[-3], float)  # class ordinal


def test_a2_region_export_has_the_real_columns_and_mixes_numbers_and_text(landing, forms, not_written):
    path = landing / "vpr" / "2022" / "5" / "Математика.xlsx"
    assert CalamineWorkbook.from_path(str(path)).sheet_names == ["Классы", "Протокол"]
    protocol, classes = sheet_rows(path, "Протокол"), sheet_rows(path, "Классы")
    labels = [f"{r['task_number']} ({r['max_score']}б)" for r in seed_tasks("MA5", 2022)]
    assert protocol[0] == [*A2_PREFIX, "Код", "Вариант", *labels, *A2_TAIL]
    assert classes[0] == [
        *A2_PREFIX,
        'Буква (цифра) класса. Введите "нет" - если отсутствует',
        "Основной учебник по предмету",
        "Другое (автор учебника)",
        "Другое (название учебника)",
    ]
    body = protocol[1:]
    assert {row[0] for row in body} == {row[0] for row in classes[1:]}
    assert all(row[4].startswith(f"{row[0]} | ") for row in body)
    assert all(re.fullmatch(r"reg86_m\d{3} \| .+", row[3]) for row in body)
    assert all(re.fullmatch(r"reg860000 \| .+", row[2]) and row[1] == 86.0 for row in body)
    assert all(re.fullmatch(r"\d\d\.0[34]\.2022 \d\d:\d\d:\d\d", row[5]) for row in body)
    variants = {type(row[7]) for row in body if row[7] != "отсутствовал"}
    assert variants == {str, float}  # '1' and 1.0 in one column

    a2 = forms[forms["layout"] == "A2"]
    assert set(a2["sex"]) == {"м", "ж"}
    class_values = set(a2["class"])
    assert "нет" in class_values and any(isinstance(c, float) or c.isdigit() for c in class_values)
    assert any(isinstance(c, str) and re.fullmatch(r"\d[А-Я]", c) for c in class_values)
    assert any(isinstance(c, str) and re.fullmatch(r"\d[а-я]", c) for c in class_values)
    absent = not_written[not_written["layout"] == "A2"]
    assert len(absent) and (absent["total"] == 0).all()
    assert absent["tasks"].map(lambda cells: all(v == "" for v in cells)).all()


def test_a2_headers_are_those_of_the_real_region_export():
    path = real_file("vpr/region_protocols_2022_MA5_one_school.xlsx")
    real = sheet_rows(path, "Протокол")[0]
    assert real[:8] == [*A2_PREFIX, "Код", "Вариант"] and real[-len(A2_TAIL) :] == A2_TAIL
    assert sheet_rows(path, "Классы")[0][:6] == A2_PREFIX
    assert CalamineWorkbook.from_path(str(path)).sheet_names == ["Классы", "Протокол"]


def test_a3_region_export_is_all_text_with_the_real_quirks(landing, forms, not_written):
    path = landing / "vpr" / "2021" / "Проведение работы по русскому языку, 4 класс. ВПР 2021.xlsx"
    table = sheet_rows(path)
    n_tasks = len(seed_tasks("RU4", 2021))
    assert table[0] == [*A3_HEAD, *(f"балл за {i}" for i in range(1, n_tasks + 1)), *A3_TAIL]
    assert all(isinstance(v, str) for row in table for v in row)
    assert len({row[0] for row in table[1:]}) > 10  # every school of the municipality in one file

    a3 = forms[forms["layout"] == "A3"]
    not_attempted = {v for cells in a3["raw"] for v in cells if not v.isdigit()}
    assert not_attempted == NOT_ATTEMPTED
    assert set(a3["sex"]) == {"м", "ж", "М", "Ж"}
    assert {"нет отметки", ""} & set(a3["journal"]) and set(a3["journal"]) - {"2", "3", "4", "5"} <= {"нет отметки", ""}
    assert set(a3["class"]) & {"нет", "НЕТ"} and set(a3["class"]) & {"а", "б"} and set(a3["class"]) & {"А", "Б"}
    assert a3["code"].str.fullmatch(r"[4-6]\d{4}").all()
    absent = not_written[not_written["layout"] == "A3"]
    assert len(absent) and (absent["total"] == "").all()
    assert absent["tasks"].map(lambda cells: all(v == "" for v in cells)).all()


def test_a3_header_is_that_of_the_real_2021_export():
    real = [h for h in sheet_rows(real_file("vpr/region_export_2021_RU5.xlsx"))[0] if h != ""]
    assert real[: len(A3_HEAD)] == A3_HEAD and real[-len(A3_TAIL) :] == A3_TAIL
    assert real[len(A3_HEAD)] == "балл за 1"


def test_a_few_pupils_are_absent_and_do_not_count_as_participants(landing, forms, not_written, truth):
    absent = not_written[not_written["kind"] == "absent"]
    share = len(absent) / (len(absent) + len(forms))
    assert 0.03 <= share <= 0.05
    manifest = json.loads((landing / "ground_truth" / "manifest.json").read_text(encoding="utf-8"))
    assert sum(manifest["counts"]["vpr_absent"].values()) == len(absent)
    assert manifest["counts"]["vpr_layouts"] == {"2020": "A3", "2021": "A3", "2022": "A2", "2023": "A1"}


def test_the_task_labels_of_the_year_show_in_the_forms(forms):
    """The seeds version task lists by year: MA4 numbers its sub-tasks 5(1) in 2022 and 5.1 from 2023."""
    labels = forms[forms["work"] == "MA4"].groupby("year")["tasks"].first()
    assert "5(1)" in labels[2022] and "5.1" in labels[2023] and "5.1" not in labels[2022]


def test_objectivity_markers_have_exactly_the_published_layout(landing, truth):
    real = pd.read_excel(real_file(REAL_MARKERS), engine="calamine", sheet_name=None)
    ((real_sheet, real_frame),) = real.items()
    planted = truth["planted"]
    marker_works = {"4 РУ": "RU4", "4 МА": "MA4", "5 РУ": "RU5", "5 МА": "MA5"}
    for year in (y for y in YEARS if y >= 2021):
        generated = pd.read_excel(
            landing / "fioko" / f"objectivity_markers_{year}.xlsx", engine="calamine", sheet_name=None
        )
        ((sheet, frame),) = generated.items()
        assert sheet == real_sheet
        assert list(frame.columns) == list(real_frame.columns)
        markers = frame[list(marker_works)]
        assert markers.isin([0, 1]).where(markers.notna(), True).all().all()
        assert (frame["Количество маркеров"] == markers.fillna(0).sum(axis=1)).all()
        assert (frame["Год"].astype(int) == year).all()
        vpr_cases = planted[planted["case"].str.startswith("vpr_") & (planted["year"] == year)]
        expected = {(r.login, c) for r in vpr_cases.itertuples() for c, w in marker_works.items() if w == r.work_code}
        found = {(r["Логин"], c) for _, r in frame.iterrows() for c in marker_works if r[c] == 1}
        assert found == expected


def test_planted_shnor_works_are_low_and_near_misses_just_under_30_percent(landing, forms, truth):
    results = work_results(landing, forms).set_index(["year", "login", "label"])
    planted = truth["planted"]
    shnor = planted[planted["case"].isin(["shnor_two_works_prev_year", "shnor_works_in_two_years"])]
    near = planted[planted["case"] == "shnor_near_miss"]
    assert len(shnor) >= 4 and len(near) >= 1
    for row in shnor.itertuples():
        n, fails = results.loc[(row.year, row.login, row.work_code)]
        assert 10 * fails >= 3 * n, row
    for row in near.itertuples():
        n, fails = results.loc[(row.year, row.login, row.work_code)]
        assert 0.28 <= fails / n < 0.30, row
        list_year = int(re.search(r"list (\d{4})", row.detail).group(1))
        expected = truth["shnor_expected"]
        assert row.login not in set(expected.loc[expected["year"] == list_year, "login"])


def test_shnor_expected_follows_the_fioko_rule_and_equals_the_official_lists(landing, forms, truth):
    results = work_results(landing, forms)
    low = results[
        results["label"].isin(FIOKO_VPR | set(GIA_LABELS.values()))
        & (10 * results["fails"] >= 3 * results["participants"])
    ]
    expected = truth["shnor_expected"]
    for list_year in [y + 1 for y in YEARS]:
        previous = low[low["year"] == list_year - 1].groupby("login").size()
        earlier = set(low.loc[low["year"] == list_year - 2, "login"])
        listed = {login for login, count in previous.items() if count >= 2 or login in earlier}
        assert set(expected.loc[expected["year"] == list_year, "login"]) == listed, list_year
        official = read_titled(landing / "fioko" / f"shnor_{list_year}.xlsx", "Год")
        assert set(official["Логин"]) == listed
        assert set(official["Уровень результатов"]) <= {
            "Сильно неуспевающие",
            "Умеренно неуспевающие",
            "Базово неуспевающие",
        }
    planted = truth["planted"]
    for case, criterion in (
        ("shnor_two_works_prev_year", "two_works_prev_year"),
        ("shnor_works_in_two_years", "works_in_two_years"),
    ):
        for row in planted[planted["case"] == case].itertuples():
            list_year = int(re.search(r"list (\d{4})", row.detail).group(1))
            match = expected[(expected["login"] == row.login) & (expected["year"] == list_year)]
            assert match["criterion"].tolist() == [criterion], row
            assert f"{row.year}:{row.work_code}" in match["low_works"].iloc[0]


def test_social_passport_shares_are_consistent_except_the_planted_one(landing, truth):
    (planted,) = truth["planted"].query("case == 'passport_inconsistent_share'").itertuples()
    inconsistent = []
    for year in YEARS:
        passport = read_titled(landing / "social_passport" / f"social_passport_{year}.xlsx", "Логин")
        passport["Логин"] = passport["Логин"].str.strip().str.lower()
        for count in ("Из неполных семей", "Малоимущие семьи"):
            share = f"{count}, %"
            implied = 100 * passport[count].astype(float) / passport["Всего обучающихся"].astype(float)
            off = passport.loc[(implied - passport[share].astype(float)).abs() > 0.051, "Логин"]
            inconsistent += [(login, year) for login in off]
    assert inconsistent == [(planted.login, planted.year)]


def test_shnsu_are_the_bottom_of_latent_context_and_passports_reflect_it(landing, truth):
    shnsu = truth["shnsu_expected"]
    year = max(YEARS)
    current = shnsu[shnsu["year"] == year]
    assert current["is_shnsu"].sum() >= 3
    context = current.groupby("is_shnsu")["context_latent"]
    assert context.max()[True] < context.min()[False]
    passport = read_titled(landing / "social_passport" / f"social_passport_{year}.xlsx", "Логин")
    passport["login"] = passport["Логин"].str.strip().str.lower()
    joined = current.merge(passport, on="login")
    higher_ed = joined["Оба родителя с высшим образованием"].astype(float) / joined["Всего обучающихся"].astype(float)
    assert np.corrcoef(joined["context_latent"], higher_ed)[0, 1] > 0.5
    assert np.corrcoef(joined["context_latent"], joined["Малоимущие семьи, %"].astype(float))[0, 1] < -0.5


def test_risk_profiles_are_long_form_with_a_versioned_factor_list(landing):
    factors = {}
    for year in (2022, 2023):
        profiles = read_titled(landing / "fioko" / f"risk_profiles_{year}.xlsx", "Год")
        assert list(profiles.columns) == ["Год", "Логин", "Наименование ОО", "Фактор риска", "Уровень риска"]
        assert set(profiles["Уровень риска"]) <= {"высокий", "средний", "низкий", "отсутствует"}
        factors[year] = set(profiles["Фактор риска"])
    assert len(factors[2022]) == 10 and len(factors[2023]) == 11 and factors[2022] != factors[2023]


def test_honest_high_performers_score_high_without_inflation_against_journals(landing, forms, truth):
    honest = set(truth["planted"].query("case == 'honest_high_performer'")["login"])
    assert honest
    mean_mark = forms.groupby("login")["mark"].mean()
    assert (mean_mark[list(honest)] > forms["mark"].mean()).all()


def test_manifest_counts_match_the_files(landing, forms):
    manifest = json.loads((landing / "ground_truth" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scale"] == "municipality" and manifest["seed"] == SEED and manifest["years"] == list(YEARS)
    assert sum(manifest["counts"]["vpr_rows"].values()) == len(forms)
    assert manifest["counts"]["gia_rows"]["2022"] == len(read_gia(landing, 2022))


def test_a_federal_year_has_the_volume_of_a_real_one():
    """About 20 million ВПР rows over every work and 7 million ГИА rows, counted without scoring anyone."""
    from pipelines.synth.plan import Plan
    from pipelines.synth.schools import SCALES, TAKES_EGE, TAKES_GVE, TAKES_OGE, build_schools, cohort_counts
    from pipelines.synth.specs import all_vpr_work_codes, default_works, vpr_work
    from pipelines.synth.vpr import participant_counts

    schools = build_schools("federal", SEED, 2024)
    cohorts = cohort_counts(schools, SEED, 2024)
    works = default_works(SCALES["federal"].every_vpr_work)
    vpr = sum(
        int(participant_counts(schools, Plan(), cohorts, 2024, vpr_work(work, 2024), SEED).sum()) for work in works
    )
    school_type = schools.registry["school_type"]
    gia_first_attempts = 2 * int(
        cohorts[9][school_type.isin(TAKES_OGE | TAKES_GVE)].sum() + cohorts[11][school_type.isin(TAKES_EGE)].sum()
    )  # Russian and one maths exam

    assert works == all_vpr_work_codes()
    assert 19_000_000 < vpr < 23_000_000
    assert 6_000_000 < gia_first_attempts < 7_500_000


def test_federal_parquet_has_the_raw_table_columns(tmp_path):
    from pipelines.synth.plan import Plan
    from pipelines.synth.schools import build_schools, cohort_counts
    from pipelines.synth.vpr import generate_vpr
    from pipelines.synth.writers import VprParquet

    schools = build_schools("municipality", SEED, 2023)
    batch = generate_vpr(schools, Plan(), cohort_counts(schools, SEED, 2023), 2023, "RU4", SEED)
    writer = VprParquet(tmp_path / "vpr" / "vpr_2023.parquet")
    writer.write(batch, schools.login)
    writer.close()
    table = pq.read_table(tmp_path / "vpr" / "vpr_2023.parquet")
    assert table.column_names == [
        "year",
        "login",
        "work_code",
        "subject_code",
        "grade",
        "participant_code",
        "class_letter",
        "variant",
        "sex",
        "task_scores",
        "task_max",
        "primary_score",
        "mark",
        "journal_mark",
    ]
    assert table.schema.field("task_scores").type.value_type == pa.int16()
    frame = table.to_pandas()
    totals = frame["task_scores"].map(lambda scores: sum(v for v in scores if v is not None and v == v))
    assert (totals == frame["primary_score"]).all()
    assert table.column("task_scores").combine_chunks().flatten().null_count > 0


def test_cli_writes_a_landing_folder_and_prints_one_line(tmp_path, capsys):
    assert parse_years("2019-2021") == [2019, 2020, 2021] and parse_years("2024") == [2024]
    assert main(["--scale", "municipality", "--years", "2021", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    assert list((tmp_path / "gia" / "2021").glob("ege_01_*.csv")) and (tmp_path / "fioko" / "shnor_2022.xlsx").exists()
    assert (tmp_path / "registry" / "gia_school_codes.xlsx").exists()


def test_regenerating_replaces_earlier_vpr_files_and_keeps_files_dropped_by_people(tmp_path):
    old_form = tmp_path / "vpr" / "2023" / "sch860001_MA5.xlsx"
    dropped = tmp_path / "vpr" / "2023" / "Протокол школы.xlsx"
    for path in (old_form, dropped):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    generate("municipality", [2023], SEED, tmp_path)
    assert not old_form.exists() and dropped.exists()
    assert any((tmp_path / "vpr" / "2023").glob("sch86*/Математика 5 класс.xlsx"))
    generate("municipality", [2022], SEED, tmp_path)
    assert [p.name for p in (tmp_path / "vpr" / "2023").iterdir()] == [dropped.name]  # school folders gone
    assert (tmp_path / "vpr" / "2022" / "5" / "Математика.xlsx").exists()


@pytest.fixture(scope="module")
def report_landing(tmp_path_factory) -> Path:
    """The landing of the `landing` fixture's region, with ВПР as the ФИС ОКО aggregated reports only."""
    return generate("municipality", YEARS, SEED, tmp_path_factory.mktemp("reports"), vpr_level="reports")


def test_the_reports_level_writes_reports_instead_of_participant_rows_and_keeps_the_truth(landing, report_landing):
    assert not (report_landing / "vpr").exists()
    reports = files_of(report_landing / "vpr_reports")
    per_year = {
        year: sorted(name.split("/")[1].rsplit(" ", 1)[0] for name in reports if name.startswith(f"{year}/"))
        for year in YEARS
    }
    per_work = ["Статистика по отметкам", "Сравнение отметок с отметками по журналу", "Первичные баллы по ОО"]
    for year, names in per_year.items():
        assert names == sorted(["Отметки по ОО", *per_work * 6]), year  # 6 works a year
    others = {name: path for name, path in files_of(landing).items() if not name.startswith(("vpr/", "ground_truth/"))}
    for name, path in others.items():
        assert path.read_bytes() == (report_landing / name).read_bytes(), name
    for name in ("planted.csv", "shnor_expected.csv", "shnsu_expected.csv"):
        assert (landing / "ground_truth" / name).read_bytes() == (report_landing / "ground_truth" / name).read_bytes()
    manifest = json.loads((report_landing / "ground_truth" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["vpr_level"] == "reports" and set(manifest["counts"]["vpr_layouts"].values()) == {"reports"}
    assert sum(manifest["counts"]["vpr_report_files"].values()) == len(reports)


def test_reports_count_the_participants_of_the_participant_files(report_landing, forms):
    """Every school's B1 and B2 rows give back the marks and journal comparison of its participant rows."""
    from pipelines.ingest.vpr_reports import read_vpr_report

    year, work = YEARS[-1], "MA5"
    written = forms[(forms["year"] == year) & (forms["work"] == work)]
    journal = pd.to_numeric(written["journal"], errors="coerce")
    written = written.assign(
        comparison=np.select(
            [written["mark"] < journal, written["mark"] == journal, written["mark"] > journal],
            ["lowered", "confirmed", "raised"],
            None,
        )
    )
    for report, column in (
        ("Статистика по отметкам", "mark"),
        ("Сравнение отметок с отметками по журналу", "comparison"),
    ):
        path = report_landing / "vpr_reports" / str(year) / f"{report} МА5.xlsx"
        parsed = pd.DataFrame(read_vpr_report(str(path.relative_to(report_landing)), path.read_bytes()).columns)
        schools = parsed[parsed["group_level"] == "school"].pivot(index="login", columns="measure", values="count")
        expected = written.dropna(subset=[column]).groupby(["login", column]).size().unstack(fill_value=0)
        expected.columns = [f"mark_{m}" if column == "mark" else m for m in expected.columns]
        assert len(schools) == len(expected) > 20, report
        pd.testing.assert_frame_equal(schools[expected.columns].fillna(0).astype(int), expected, check_names=False)
        region = parsed[parsed["group_level"] == "region"]
        assert set(region["participants"]) == {len(written)}, report
    assert written["comparison"].isna().any()  # pupils without a journal mark are left out of B2's counts


@pytest.mark.parametrize(
    ("real", "generated", "sheet"),
    [
        ("report_F3_mark_statistics_2026_RU4.xlsx", "Статистика по отметкам РУ4.xlsx", "РУ 4 Статистика по отметкам"),
        (
            "report_journal_comparison_2024_MA4.xlsx",
            "Сравнение отметок с отметками по журналу МА4.xlsx",
            "МА 4 Сравнение отметок с отметк",
        ),
    ],
)
def test_b1_and_b2_reports_have_the_layout_of_the_real_ones(report_landing, real, generated, sheet):
    real_rows = sheet_rows(real_file(f"vpr/{real}"))
    path = report_landing / "vpr_reports" / str(YEARS[-1]) / generated
    assert CalamineWorkbook.from_path(str(path)).sheet_names == [sheet]
    rows = sheet_rows(path)
    header = next(i for i, row in enumerate(real_rows) if row[0] == "Группы участников")
    labels, real_labels = [r[0] for r in rows[:header]], [r[0] for r in real_rows[:header]]
    assert labels[:2] + labels[3:] == real_labels[:2] + real_labels[3:]  # the work's line differs
    assert all(re.fullmatch(r"ВПР \d{4} .+ \d+ класс", line) for line in (labels[2], real_labels[2]))
    assert rows[header] == real_rows[header]
    whole_sample = rows[header + 1][0] == "Вся выборка"
    assert whole_sample == (real_rows[header + 1][0] == "Вся выборка")
    assert rows[header + 1 + whole_sample][0] == "Ханты-Мансийский автономный округ - Югра"
    assert re.fullmatch(r".+\(reg86_m001\)", rows[header + 2 + whole_sample][0])
    assert re.fullmatch(r".+\(sch86\d{4}\)", rows[header + 3 + whole_sample][0])


def test_both_levels_write_participant_files_and_reports_and_the_cli_says_so(tmp_path, capsys):
    assert (
        main(
            ["--scale", "municipality", "--years", "2023", "--seed", "3", "--out", str(tmp_path), "--vpr-level", "both"]
        )
        == 0
    )
    assert "report files" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "ground_truth" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["vpr_layouts"] == {"2023": "A1 + reports"}
    assert any((tmp_path / "vpr" / "2023").glob("sch86*/Математика 5 класс.xlsx"))
    assert (tmp_path / "vpr_reports" / "2023" / "Статистика по отметкам МА5.xlsx").exists()
    generate("municipality", [2023], 3, tmp_path)  # back to participant rows: the reports go
    assert list((tmp_path / "vpr_reports").iterdir()) == []  # the year folder left empty goes too
