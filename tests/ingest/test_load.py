"""Loading a landing folder: good files in, bad files quarantined, incremental by fingerprint, files untouched."""

import hashlib
import json
import shutil

import pytest

from pipelines.ingest import load as load_module
from pipelines.ingest import reading
from pipelines.ingest.load import load_landing
from tests.conftest import SAMPLE_PARTICIPANT_KEY
from tests.ingest.conftest import GIA_ROWS, JOURNAL, REGISTRY, REPO_ROOT, SHNOR, VPR_ROWS, sha256_of_tree, with_cell

SAMPLE = REPO_ROOT / "data" / "sample"
FORM = "vpr/2023/sch860001/Математика 5 класс.xlsx"
OTHER = "vpr/2023/sch860002/Математика 5 класс.xlsx"
VPR = {"schools", "vpr_results"}


def counts(con) -> dict[str, int]:
    tables = [
        t
        for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    ]
    return {t: con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] for t in sorted(tables)}


def rows_of(con, file: str) -> list[tuple]:
    return con.execute(
        "select participant_code, primary_score, _file_sha256 from raw.vpr_results where _source_file = ? "
        "order by _row_number",
        [file],
    ).fetchall()


def versions(con, file: str) -> list[tuple]:
    return con.execute("select status, rows from ops.loaded_files where file = ? order by loaded_at", [file]).fetchall()


def test_good_files_load_and_bad_files_are_quarantined(landing, con):
    landing.vpr_form(login="sch860002", rows=[with_cell(VPR_ROWS[0], JOURNAL, 7)])
    (landing.root / "social_passport" / "social_passport_2022.xlsx").write_bytes(b"not a workbook")

    reports = load_landing(landing.root, con)

    assert reports["vpr_results"].files_loaded == [FORM]
    assert reports["vpr_results"].files_quarantined == [OTHER]
    assert reports["social_passport"].files_quarantined == ["social_passport/social_passport_2022.xlsx"]
    assert counts(con) == {
        "fioko_objectivity_markers": 8,
        "fioko_risk_profiles": 2,
        "fioko_shnor": 1,
        "gia_appeals": 0,
        "gia_results": 4,
        "gia_school_codes": 0,
        "login_aliases": 0,
        "schools": 3,
        "social_passport": 2,
        "vpr_report_counts": 0,
        "vpr_results": 3,
    }
    statuses = dict(con.execute("select file, status from ops.loaded_files").fetchall())
    assert statuses[OTHER] == statuses["social_passport/social_passport_2022.xlsx"] == "quarantined"
    assert sum(status == "loaded" for status in statuses.values()) == 7
    assert con.execute("select file, rule from ops.quarantine order by file").fetchall() == [
        ("social_passport/social_passport_2022.xlsx", "unreadable"),
        (OTHER, "journal_mark"),
    ]


def test_second_load_reads_nothing_and_changes_nothing(landing, con, monkeypatch):
    load_landing(landing.root, con)
    before = counts(con)

    def no_reading(*args):
        raise AssertionError("an unchanged file was read again")

    monkeypatch.setattr(reading, "read_file", no_reading)
    monkeypatch.setattr(load_module, "sha256_of", no_reading)  # untouched files are not even hashed
    reports = load_landing(landing.root, con)

    assert counts(con) == before
    assert all(not r.files_loaded and r.files_skipped == r.files_found for r in reports.values())
    assert con.execute("select count(*) from ops.loaded_files").fetchall() == [(7,)]


def test_a_quarantined_file_is_not_read_again_until_it_changes(empty_landing, con, monkeypatch):
    empty_landing.registry()
    empty_landing.shnor(rows=[*SHNOR, [2023, "sch860001", "x", "y", "никакой"]])
    load_landing(empty_landing.root, con)

    monkeypatch.setattr(reading, "read_file", lambda *args: pytest.fail("the quarantined file was read again"))
    report = load_landing(empty_landing.root, con)["fioko_shnor"]

    assert report.files_quarantined == ["fioko/shnor_2023.xlsx"] and report.files_skipped == ["fioko/shnor_2023.xlsx"]


def test_a_changed_file_replaces_its_rows(landing, con):
    load_landing(landing.root, con, sources=VPR)
    old_sha = rows_of(con, FORM)[0][2]

    new = landing.vpr_form(rows=[VPR_ROWS[0], with_cell(VPR_ROWS[1], JOURNAL, 4)])
    load_landing(landing.root, con, sources=VPR)

    new_sha = hashlib.sha256(new.read_bytes()).hexdigest()
    assert rows_of(con, FORM) == [("50001", VPR_ROWS[0][-1], new_sha), ("50002", VPR_ROWS[1][-1], new_sha)]
    assert con.execute("select count(*), count(distinct participant_code) from raw.vpr_results").fetchall() == [(2, 2)]
    assert con.execute(
        "select sha256, status from ops.loaded_files where file = ? order by loaded_at", [FORM]
    ).fetchall() == [(old_sha, "replaced"), (new_sha, "loaded")]


def test_a_broken_new_version_keeps_the_rows_of_the_last_good_one(landing, con):
    load_landing(landing.root, con, sources=VPR)
    good_rows = rows_of(con, FORM)

    landing.vpr_form(rows=[with_cell(VPR_ROWS[0], JOURNAL, 9)])
    report = load_landing(landing.root, con, sources=VPR)["vpr_results"]
    assert report.files_quarantined == [FORM]
    assert rows_of(con, FORM) == good_rows
    assert versions(con, FORM) == [("loaded", 3), ("quarantined", 0)]

    landing.vpr_form(rows=VPR_ROWS[:1])
    report = load_landing(landing.root, con, sources=VPR)["vpr_results"]
    assert report.files_loaded == [FORM] and report.files_quarantined == []
    assert versions(con, FORM) == [("replaced", 3), ("replaced", 0), ("loaded", 1)]
    assert con.execute("select count(*) from ops.quarantine").fetchall() == [(0,)]


def test_landing_files_are_never_modified_moved_or_deleted(landing, con):
    landing.vpr_form(login="sch860002", rows=[with_cell(VPR_ROWS[0], JOURNAL, 7)])
    before = sha256_of_tree(landing.root)

    load_landing(landing.root, con)
    load_landing(landing.root, con, row_level_quarantine=True)

    assert sha256_of_tree(landing.root) == before


def test_a_removed_file_keeps_its_rows_and_is_reported_missing(landing, con):
    landing.vpr_form(login="sch860002")
    load_landing(landing.root, con, sources=VPR)

    (landing.root / OTHER).unlink()
    report = load_landing(landing.root, con, sources=VPR)["vpr_results"]

    assert report.files_missing == [OTHER]
    assert len(rows_of(con, OTHER)) == 3


def test_row_level_quarantine_keeps_the_good_rows(empty_landing, con):
    empty_landing.registry()
    empty_landing.vpr_form(rows=[VPR_ROWS[0], with_cell(VPR_ROWS[1], JOURNAL, 7), VPR_ROWS[2]])

    report = load_landing(empty_landing.root, con)["vpr_results"]
    assert report.files_quarantined == [FORM] and rows_of(con, FORM) == []

    report = load_landing(empty_landing.root, con, row_level_quarantine=True)["vpr_results"]
    assert report.files_loaded == [FORM] and (report.rows_written, report.rows_rejected) == (2, 1)
    assert [code for code, *_ in rows_of(con, FORM)] == ["50001", "50003"]
    assert con.execute("select row_number, rule from ops.quarantine").fetchall() == [(3, "journal_mark")]


def test_a_file_quarantined_for_an_unknown_school_loads_once_the_registry_knows_it(empty_landing, con):
    empty_landing.registry()
    empty_landing.shnor(
        rows=[*SHNOR, [2023, "sch860004", "МБОУ «СОШ № 4»", "Лазовский муниципальный округ", "Базово неуспевающие"]]
    )
    assert load_landing(empty_landing.root, con)["fioko_shnor"].files_quarantined == ["fioko/shnor_2023.xlsx"]

    empty_landing.registry([*REGISTRY, ["sch860004", "", "", "Лазовский муниципальный округ", "село", "СОШ", 90, 1980]])
    report = load_landing(empty_landing.root, con)["fioko_shnor"]

    assert report.files_loaded == ["fioko/shnor_2023.xlsx"]
    assert con.execute("select login from raw.fioko_shnor order by login").fetchall() == [
        ("sch860002",),
        ("sch860004",),
    ]


def test_without_a_registry_logins_are_not_checked_and_the_report_says_so(empty_landing, con):
    empty_landing.shnor(rows=[*SHNOR, [2023, "sch860004", "", "", "Базово неуспевающие"]])

    report = load_landing(empty_landing.root, con)["fioko_shnor"]

    assert report.files_loaded == ["fioko/shnor_2023.xlsx"]
    assert report.notes == ["the school registry is not loaded: logins were not checked against it"]


def test_participant_codes_are_salted_when_the_salt_is_set_at_run_time(landing, con, monkeypatch):
    monkeypatch.setenv("PARTICIPANT_CODE_SALT", "s3cret")
    load_landing(landing.root, con, sources={"schools", "vpr_results", "gia_results"})

    def salted(code):
        return hashlib.sha256(f"s3cret{code}".encode()).hexdigest()[:16]

    assert [code for code, *_ in rows_of(con, FORM)] == [salted(c) for c in ("50001", "50002", "50003")]
    assert con.execute("select participant_code from raw.gia_results order by _row_number limit 1").fetchall() == [
        (salted("P-8F3A21C0"),)
    ]


def test_a_campaign_touches_only_its_own_files_and_rows(landing, con):
    landing.vpr_form(year=2024, login="sch860002")
    landing.gia(year=2024, lines=[line.replace("2023;", "2024;", 1) for line in GIA_ROWS])

    reports = load_landing(landing.root, con, campaign="2023-2024/H2", sources={"vpr_results", "gia_results"})
    assert reports["vpr_results"].files_found == ["vpr/2024/sch860002/Математика 5 класс.xlsx"]
    assert reports["gia_results"].files_found == ["gia/gia_2024.csv"]
    assert con.execute(
        "select distinct year from raw.vpr_results union select distinct year from raw.gia_results"
    ).fetchall() == [(2024,)]
    loaded_2024 = con.execute("select max(_loaded_at) from raw.vpr_results").fetchall()

    reports = load_landing(landing.root, con, campaign="2022-2023/H2", sources={"vpr_results", "gia_results"})
    assert reports["vpr_results"].files_loaded == [FORM] and reports["vpr_results"].files_missing == []
    assert con.execute("select max(_loaded_at) from raw.vpr_results where year = 2024").fetchall() == loaded_2024
    assert (
        load_landing(landing.root, con, campaign="2020-2021/H1", sources={"vpr_results"})["vpr_results"].files_found
        == []
    )


def test_a_participant_loaded_from_another_file_is_not_loaded_twice(landing, con):
    load_landing(landing.root, con, sources=VPR)
    shutil.copy(landing.root / FORM, landing.root / "vpr" / "2023" / "sch860001" / "Математика 5 класс (1).xlsx")

    report = load_landing(landing.root, con, sources=VPR)["vpr_results"]

    assert report.files_quarantined == ["vpr/2023/sch860001/Математика 5 класс (1).xlsx"]
    assert report.issues[0].message == (
        "vpr/2023/sch860001/Математика 5 класс (1).xlsx, sheet «Протокол», row 2: year 2023, Логин «sch860001», "
        "work_code «MA5», Код «50001» is already loaded from vpr/2023/sch860001/Математика 5 класс.xlsx, row 2"
    )
    assert con.execute("select count(*) from raw.vpr_results").fetchall() == [(3,)]


@pytest.mark.slow  # reads every file of the bundled sample
@pytest.mark.skipif(not (SAMPLE / "ground_truth" / "manifest.json").exists(), reason="no committed sample")
def test_the_committed_sample_loads_whole(con, monkeypatch):
    monkeypatch.setenv("PARTICIPANT_CODE_SALT", SAMPLE_PARTICIPANT_KEY)  # its РЦОИ lists carry dummy documents
    manifest = json.loads((SAMPLE / "ground_truth" / "manifest.json").read_text())["counts"]

    reports = load_landing(SAMPLE, con)

    assert not any(report.files_quarantined for report in reports.values())
    vpr = dict(
        con.execute(
            "select year::varchar, count(*) filter (where not is_absent) from raw.vpr_results group by 1"
        ).fetchall()
    )
    absent = dict(
        con.execute(
            "select year::varchar, count(*) filter (where is_absent) from raw.vpr_results group by 1"
        ).fetchall()
    )
    gia = dict(con.execute("select year::varchar, count(*) from raw.gia_results group by 1").fetchall())
    assert vpr == manifest["vpr_rows"] and absent == manifest["vpr_absent"] and gia == manifest["gia_rows"]
    assert counts(con)["schools"] == manifest["schools"]
    # the planted inconsistent share (seed 001's 42 / 21 % ⇒ 200 ≠ 259) is caught and its passport still loaded
    [(file, rule, severity)] = con.execute("select file, rule, severity from ops.quarantine").fetchall()
    assert rule == "share_matches_count" and severity == "warning" and file in reports["social_passport"].files_loaded
