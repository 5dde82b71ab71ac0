"""A region that has only ФИС ОКО's 2021 export and a list of logins gets its indicators.

The landing folder holds the real `registry/logins_minimal.xlsx` (`логин | имя | регион`, nothing else)
and the real region export of Russian, grade 5, 2021 (A3 layout), as downloaded. Skipped where
../shared/real (or SHARED_REAL_DIR) is absent.
"""

import shutil

import duckdb
import pytest

from pipelines.ingest.load import load_landing
from tests.dbt.test_marts import SELECTION, _dbt
from tests.ingest.conftest import REAL_DIR, needs_real

pytestmark = needs_real
RU5_2021_CUT_3 = 18  # FIOKO's 2021 scale for RU5: 0–17 is «2»


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("real_landing")
    landing, database = tmp / "landing", tmp / "monitoring.duckdb"
    for source, target in (
        ("registry/logins_minimal.xlsx", "registry/logins_minimal.xlsx"),
        ("vpr/region_export_2021_RU5.xlsx", "vpr/2021/region_export_2021_RU5.xlsx"),
    ):
        (landing / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REAL_DIR / source, landing / target)
    with duckdb.connect(str(database)) as con:
        load_landing(landing, con)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAREHOUSE_PATH", str(database))
        _dbt(["build", *SELECTION], tmp)
    return database


def test_every_school_of_the_export_gets_its_ru5_2021_indicators_from_the_2021_scale(region):
    with duckdb.connect(str(region)) as con:  # as dbt's in-process connection is configured
        expected = dict(
            con.execute(f"""
            select login, round(100.0 * count(*) filter (where primary_score < {RU5_2021_CUT_3}) / count(*), 6)
            from raw.vpr_results where not is_absent group by login""").fetchall()
        )
        [(schools,)] = con.execute("select count(distinct login) from raw.vpr_results").fetchall()
        published = con.execute("""
            select login, school_name, participants, fail_share_pct from marts.mart_school_work_indicators
            where year = 2021 and work_code = 'RU5'""").fetchall()

    assert len({login for login, *_ in published}) == len(published) == schools == 637
    assert {login for login, _, participants, _ in published if participants} == set(expected)
    assert all(name for _, name, _, _ in published)  # the thin registry's «имя»
    shown = [(login, share) for login, _, participants, share in published if share is not None]
    assert all(share is not None for _, _, participants, share in published if participants > 0)
    assert len(shown) > 600 and all(round(share, 6) == expected[login] for login, share in shown)
