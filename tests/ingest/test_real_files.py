"""The real files of ../shared/real (or SHARED_REAL_DIR), read unchanged under the names they arrive with.

Skipped with a reason where the folder is absent: the files are not the project's to redistribute.
"""

import hashlib
import shutil
from dataclasses import dataclass

import pytest

from pipelines.ingest.load import load_landing
from pipelines.ingest.vpr_reader import read_vpr_workbook
from tests.ingest.conftest import REAL_DIR, needs_real

pytestmark = needs_real


@dataclass(frozen=True)
class RealFile:
    name: str
    place: str  # where a person would drop it in the landing folder
    layout: str
    work: str
    rows: int  # pupils listed, absent ones included
    schools: int
    absent: int
    not_attempted: int  # task cells of pupils who wrote the work
    configured: bool  # whether the rules seeds configure the work of its year


REAL_VPR = [
    RealFile(
        "protocol_form.xlsx", "vpr/2023/sch220164/Математика 4 класс.xlsx", "fisoko_protocol", "MA4", 20, 1, 2, 0, True
    ),
    RealFile(
        "protocol_form_two_part_variant.xlsx",
        "vpr/2023/sch220164/Математика_4_класс.xlsx",
        "fisoko_protocol",
        "MA4",
        20,
        1,
        2,
        0,
        True,
    ),
    RealFile(
        "protocol_form_2026_blank_EN8.xlsx",
        "vpr/2026/sch220164/Английский язык 8 класс.xlsx",
        "fisoko_protocol",
        "EN8",
        0,
        0,
        0,
        0,
        False,
    ),
    RealFile(
        "region_export_2021_RU5.xlsx",
        "vpr/2021/Проведение работы по русскому языку, 5 класс. ВПР 2021.xlsx",
        "region_export_2021",
        "RU5",
        26501,
        637,
        2716,
        17547,
        True,
    ),
    RealFile(
        "region_export_2021_FR11.xlsx",
        "vpr/2021/region_export_2021_FR11.xlsx",
        "region_export_2021",
        "FR11",
        14,
        2,
        0,
        9,
        False,
    ),
    RealFile(
        "region_protocols_2022_GG10.xlsx",
        "vpr/2022/10/География.xlsx",
        "fisoko_region_protocols",
        "GG10",
        274,
        27,
        18,
        304,
        False,
    ),
    RealFile(
        "region_protocols_2022_MA5_one_school.xlsx",
        "vpr/2022/5/Математика.xlsx",
        "fisoko_region_protocols",
        "MA5",
        7,
        1,
        0,
        0,
        True,
    ),
    RealFile(
        "report_F1_individual_results_2026_RU4.xlsx",
        "vpr/2026/Индивидуальные результаты.xlsx",
        "fisoko_report_f1",
        "RU4",
        50,
        1,
        0,
        0,
        True,
    ),
]


@pytest.mark.slow  # the real region exports are large workbooks
@pytest.mark.parametrize("real", REAL_VPR, ids=[r.name for r in REAL_VPR])
def test_every_real_vpr_file_is_recognised_and_counted(real):
    data = (REAL_DIR / "vpr" / real.name).read_bytes()

    parsed = read_vpr_workbook(real.place, data, configured=real.configured)

    columns = parsed.columns
    scores = [s for row, absent in zip(columns["task_scores"], columns["is_absent"]) if not absent for s in row]
    assert set(columns["layout"]) <= {real.layout} and set(columns["work_code"]) <= {real.work}
    assert (
        len(columns["_row_number"]),
        len(set(columns["login"])),
        sum(columns["is_absent"]),
        sum(s is None for s in scores),
    ) == (real.rows, real.schools, real.absent, real.not_attempted)


def test_the_blank_2026_form_is_recognised_without_pupils_and_its_unconfigured_work_is_named(empty_landing, con):
    path = empty_landing.root / "vpr" / "2026" / "sch220164" / "Английский язык 8 класс.xlsx"
    path.parent.mkdir(parents=True)
    shutil.copyfile(REAL_DIR / "vpr" / "protocol_form_2026_blank_EN8.xlsx", path)

    report = load_landing(empty_landing.root, con, sources={"vpr_results"})["vpr_results"]

    assert report.files_quarantined == ["vpr/2026/sch220164/Английский язык 8 класс.xlsx"]
    [issue] = report.issues
    assert issue.rule == "work_not_configured" and "work EN8 is not configured for any year" in issue.message


@pytest.mark.slow  # loads a whole real region export
def test_the_thin_registry_and_the_whole_region_export_load_unchanged(empty_landing, con):
    """The landing folder of a region that has only ФИС ОКО's export and a list of logins."""
    registry = empty_landing.root / "registry" / "logins_minimal.xlsx"
    export = empty_landing.root / "vpr" / "2021" / "region_export_2021_RU5.xlsx"
    for source, target in (
        (REAL_DIR / "registry" / "logins_minimal.xlsx", registry),
        (REAL_DIR / "vpr" / "region_export_2021_RU5.xlsx", export),
    ):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (registry, export)}

    reports = load_landing(empty_landing.root, con)

    assert reports["schools"].files_loaded == ["registry/logins_minimal.xlsx"]
    assert con.execute("select count(*), count(municipality), count(settlement_type) from raw.schools").fetchall() == [
        (692, 692, 0)
    ]
    vpr = reports["vpr_results"]
    # Row-level: a region file keeps its good rows; each impossible cell is reported with its row and column.
    assert vpr.files_loaded == ["vpr/2021/region_export_2021_RU5.xlsx"] and vpr.rows_rejected == 13
    assert {issue.rule for issue in vpr.issues if issue.severity == "error"} == {"task_score", "journal_mark"}
    assert all(issue.row and issue.column for issue in vpr.issues if issue.severity == "error")
    assert con.execute(
        "select count(*), count(distinct login), count(*) filter (where is_absent) from raw.vpr_results"
    ).fetchall() == [(26488, 637, 2716)]
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (registry, export)} == before


def test_a_changed_login_is_proposed_never_merged_until_confirmed(empty_landing, con):
    from tests.ingest.conftest import write_xlsx

    registry = empty_landing.root / "registry" / "logins_minimal.xlsx"
    registry.parent.mkdir(parents=True)
    shutil.copyfile(REAL_DIR / "registry" / "logins_minimal.xlsx", registry)
    export = empty_landing.root / "vpr" / "2022" / "5" / "Математика.xlsx"
    export.parent.mkdir(parents=True)
    shutil.copyfile(REAL_DIR / "vpr" / "region_protocols_2022_MA5_one_school.xlsx", export)

    report = load_landing(empty_landing.root, con)["vpr_results"]

    assert report.rows_written == 0 and report.files_quarantined == ["vpr/2022/5/Математика.xlsx"]
    assert report.issues[0].message.endswith(
        "login «edu223017» is not in the school registry; the registry has sch223017 with the same digits: if it "
        "is one school whose login changed, confirm the pair in registry/login_aliases.xlsx (docs/inputs.md)"
    )

    write_xlsx(
        empty_landing.root / "registry" / "login_aliases.xlsx",
        "Логины",
        [["Прежний логин", "Логин"], ["edu223017", "sch223017"]],
    )
    reports = load_landing(empty_landing.root, con)

    assert reports["login_aliases"].files_loaded == ["registry/login_aliases.xlsx"]
    assert reports["vpr_results"].files_loaded == ["vpr/2022/5/Математика.xlsx"]
    assert con.execute("select count(*) from raw.vpr_results where login = 'edu223017'").fetchall() == [(7,)]
