"""The synthetic data generator: determinism, documented formats, and ground truth that matches the data.

Everything is re-read from the written files with the readers the pipeline is expected to use, and the
ground truth is recomputed from them independently of the generator's own bookkeeping.
"""

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.synth import generate
from pipelines.synth.__main__ import main, parse_years
from tests.conftest import REAL_DIR

YEARS = range(2020, 2024)
SEED = 5
SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
REAL_MARKERS = REAL_DIR / "fioko_objectivity_markers_dagestan_2023_2025.xlsx"
FIOKO_VPR = {"ВПР RU5", "ВПР MA5", "ВПР RU6", "ВПР MA6"}
GIA_LABELS = {("ОГЭ", 1): "ОГЭ RU", ("ОГЭ", 2): "ОГЭ MA", ("ЕГЭ", 1): "ЕГЭ RU", ("ЕГЭ", 2): "ЕГЭ MA_PROF",
              ("ЕГЭ", 22): "ЕГЭ MA_BASE"}


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    return generate("municipality", YEARS, SEED, tmp_path_factory.mktemp("landing"))


def read_titled(path: Path, first_header: str) -> pd.DataFrame:
    """Reads a sheet whose table starts at the first row whose first cell is `first_header`."""
    raw = pd.read_excel(path, header=None, engine="calamine", dtype=object)
    start = raw.index[raw[0].astype(str).str.strip() == first_header][0]
    table = raw.iloc[start + 1:].reset_index(drop=True)
    table.columns = [str(c).strip() for c in raw.iloc[start]]
    return table


GIA_COLUMNS = ["Год", "Тип экзамена", "Код предмета", "Логин ОО", "Код участника", "Первичный балл",
               "Тестовый балл", "Отметка", "Минимальный балл", "Процент выполнения", "Пересдача", "Форма"]
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
        frames.append(pd.DataFrame({
            "Год": lst.year, "Тип экзамена": lst.exam_type, "Код предмета": lst.subject_code,
            "Логин ОО": f["school_code"].map(login_of), "Код участника": f["participant_code"],
            "Первичный балл": pd.to_numeric(f["primary_score"]),
            "Тестовый балл": pd.to_numeric(f["test_score"]) if "test_score" in f else np.nan,
            "Отметка": pd.to_numeric(f["mark"]) if "mark" in f else np.nan,
            "Минимальный балл": lst.footer.get("minimum", (None, np.nan))[1],
            "Процент выполнения": pd.to_numeric(f["percent_complete"]) if "percent_complete" in f else np.nan,
            "Пересдача": int(lst.exam_date > first_day[(lst.exam_type, lst.subject_code)]), "Форма": "экзамен"}))
    csv_layout = landing / "gia" / f"gia_{year}.csv"
    if csv_layout.exists():
        frames.append(pd.read_csv(csv_layout, encoding="cp1251", sep=";", decimal=",")[GIA_COLUMNS])
    return pd.concat(frames, ignore_index=True)[GIA_COLUMNS]


def read_forms(landing: Path) -> pd.DataFrame:
    """Every ВПР form as one row per participant with the task scores as a list (None = not attempted)."""
    rows = []
    for path in sorted((landing / "vpr").glob("*/*.xlsx")):
        login, work = path.stem.split("_")
        table = read_titled(path, "Код участника")
        columns = list(table.columns)
        tasks = columns[columns.index("Вариант") + 1: columns.index("Сумма баллов")]
        maxima = table.iloc[0][tasks].astype(int).tolist()
        participants = table.iloc[1:]
        for code, cells, primary, mark in zip(participants["Код участника"], participants[tasks].to_numpy().tolist(),
                                              participants["Сумма баллов"], participants["Отметка"]):
            scores = [None if pd.isna(v) or v == "X" else int(v) for v in cells]
            rows.append({"year": int(path.parent.name), "login": login, "work": work, "tasks": tuple(tasks),
                         "task_max": maxima, "scores": scores, "primary": int(primary), "mark": int(mark),
                         "code": code})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def forms(landing) -> pd.DataFrame:
    return read_forms(landing)


@pytest.fixture(scope="module")
def truth(landing) -> dict[str, pd.DataFrame]:
    folder = landing / "ground_truth"
    return {name: pd.read_csv(folder / f"{name}.csv") for name in ("planted", "shnor_expected", "shnsu_expected")}


def seed_rows(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def work_spec(work: str, year: int) -> dict[str, str]:
    (row,) = [r for r in seed_rows("vpr_works.csv")
              if r["work_code"] == work and int(r["year_from"]) <= year <= int(r["year_to"])]
    return row


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
        pd.testing.assert_frame_equal(pd.read_excel(first[name], header=None, engine="calamine"),
                                      pd.read_excel(again[name], header=None, engine="calamine"))

    other = files_of(generate("municipality", [2023], SEED + 1, tmp_path / "other"))
    same_year = files_of(generate("municipality", [2023], SEED, tmp_path / "same_year"))
    for name in ("gia/2023/ege_01_2023-05-29.csv", "registry/schools.xlsx", "social_passport/social_passport_2023.xlsx"):
        assert other[name].read_bytes() != same_year[name].read_bytes(), name


def test_registry_has_the_documented_columns_and_one_new_school(landing):
    registry = read_titled(landing / "registry" / "schools.xlsx", "Логин")
    assert list(registry.columns) == ["Логин", "Полное наименование", "Краткое наименование", "Муниципалитет",
                                      "Тип населённого пункта", "Тип ОО", "Контингент", "Год открытия"]
    assert 25 <= len(registry) <= 35
    assert registry["Логин"].str.fullmatch(r"sch86\d{4}").all()
    assert set(registry["Тип населённого пункта"]) <= {"город", "посёлок городского типа", "село"}
    assert registry["Муниципалитет"].nunique() == 1
    assert (registry["Год открытия"] == max(YEARS) - 1).sum() == 1
    primary_only = registry.loc[registry["Тип ОО"] == "НОШ", "Логин"]
    forms = {p.stem for p in (landing / "vpr").glob("*/*.xlsx")}
    assert all(not f.startswith(tuple(primary_only)) or f.endswith("4") for f in forms)


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


def test_vpr_forms_follow_the_seed_specification_and_cut_scores(landing, forms):
    path = next((landing / "vpr" / "2022").glob("*_MA5.xlsx"))
    titles = pd.read_excel(path, header=None, engine="calamine").iloc[:4, 0].tolist()
    assert titles[0] == "Всероссийские проверочные работы 2022" and titles[1].endswith("Математика, 5 класс")
    tasks = seed_rows("vpr_tasks.csv")
    for (year, work), group in forms.groupby(["year", "work"]):
        spec = work_spec(work, year)
        task_rows = sorted((r for r in tasks if r["work_code"] == work and r["year_from"] == spec["year_from"]),
                           key=lambda r: int(r["task_order"]))
        assert group["tasks"].iloc[0] == tuple(r["task_number"] for r in task_rows)
        assert group["task_max"].iloc[0] == [int(r["max_score"]) for r in task_rows]
        cuts = [int(spec[c]) for c in ("cut_3", "cut_4", "cut_5")]
        assert (group["mark"] == 2 + np.searchsorted(cuts, group["primary"], side="right")).all(), (year, work)
        assert (group["primary"] == group["scores"].map(lambda s: sum(v or 0 for v in s))).all()
        maxima = group["task_max"].iloc[0]
        assert group["scores"].map(lambda s: all(v is None or 0 <= v <= m for v, m in zip(s, maxima))).all()
    blanks = forms["scores"].map(lambda s: sum(v is None for v in s)).sum() / forms["scores"].map(len).sum()
    assert 0.01 < blanks < 0.05
    assert not forms.duplicated(["year", "login", "work", "code"]).any()


def test_the_ma6_specification_change_shows_in_the_forms(forms):
    maxima = forms[forms["work"] == "MA6"].groupby("year")["task_max"].first().map(sum)
    assert maxima[2021] == 16 and maxima[2022] == 20


def test_objectivity_markers_have_exactly_the_published_layout(landing, truth):
    real = pd.read_excel(REAL_MARKERS, engine="calamine", sheet_name=None)
    ((real_sheet, real_frame),) = real.items()
    planted = truth["planted"]
    marker_works = {"4 РУ": "RU4", "4 МА": "MA4", "5 РУ": "RU5", "5 МА": "MA5"}
    for year in (y for y in YEARS if y >= 2021):
        generated = pd.read_excel(landing / "fioko" / f"objectivity_markers_{year}.xlsx", engine="calamine",
                                  sheet_name=None)
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
        assert row.login not in set(truth["shnor_expected"].query("year == @list_year")["login"])


def test_shnor_expected_follows_the_fioko_rule_and_equals_the_official_lists(landing, forms, truth):
    results = work_results(landing, forms)
    low = results[results["label"].isin(FIOKO_VPR | set(GIA_LABELS.values()))
                  & (10 * results["fails"] >= 3 * results["participants"])]
    expected = truth["shnor_expected"]
    for list_year in [y + 1 for y in YEARS]:
        previous = low[low["year"] == list_year - 1].groupby("login").size()
        earlier = set(low.loc[low["year"] == list_year - 2, "login"])
        listed = {login for login, count in previous.items() if count >= 2 or login in earlier}
        assert set(expected.loc[expected["year"] == list_year, "login"]) == listed, list_year
        official = read_titled(landing / "fioko" / f"shnor_{list_year}.xlsx", "Год")
        assert set(official["Логин"]) == listed
        assert set(official["Уровень результатов"]) <= {"Сильно неуспевающие", "Умеренно неуспевающие",
                                                        "Базово неуспевающие"}
    planted = truth["planted"]
    for case, criterion in (("shnor_two_works_prev_year", "two_works_prev_year"),
                            ("shnor_works_in_two_years", "works_in_two_years")):
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
    vpr = sum(int(participant_counts(schools, Plan(), cohorts, 2024, vpr_work(work, 2024), SEED).sum())
              for work in works)
    school_type = schools.registry["school_type"]
    gia_first_attempts = 2 * int(cohorts[9][school_type.isin(TAKES_OGE | TAKES_GVE)].sum()
                                 + cohorts[11][school_type.isin(TAKES_EGE)].sum())  # Russian and one maths exam

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
    assert table.column_names == ["year", "login", "work_code", "subject_code", "grade", "participant_code",
                                  "class_letter", "variant", "sex", "task_scores", "task_max", "primary_score",
                                  "mark", "journal_mark"]
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
