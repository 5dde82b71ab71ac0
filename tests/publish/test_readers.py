"""A reader sees one release whatever the order of its reads and whenever ``current`` is switched."""

import datetime as dt

import duckdb
import pytest

from pipelines.defs.publish.config import load_publication_config
from pipelines.defs.publish.release import CURRENT, RELEASES, prune, publish
from pipelines.published import open_current, parquet_release
from tests.quality.sample_run import copy_run

CONFIG = load_publication_config()
MART = CONFIG.marts[0].name


@pytest.fixture
def two_releases(sample, tmp_path):
    """A publication folder where ``current`` is switched from release A to B by the caller."""
    run = copy_run(sample, tmp_path)
    folder = tmp_path / "readers"
    con = duckdb.connect(str(run.warehouse))
    first = publish(con, folder, CONFIG, "aaaaaaaa-0001", now=dt.datetime(2026, 3, 1, 6, tzinfo=dt.UTC))

    def switch():
        return publish(con, folder, CONFIG, "bbbbbbbb-0002", now=dt.datetime(2026, 11, 1, 6, tzinfo=dt.UTC))

    yield folder, first.release_dir.name, switch
    con.close()


def release_in_duckdb(path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select distinct release from release_info").fetchone()[0]


def test_paths_through_current_can_mix_two_releases(two_releases):
    """Why the safe ways exist: each open of a path through ``current`` resolves the link anew."""
    folder, first, switch = two_releases
    database = release_in_duckdb(folder / CURRENT / CONFIG.duckdb_file)
    second = switch().release_dir.name
    assert (database, parquet_release(folder / CURRENT / CONFIG.parquet_folder / f"{MART}.parquet")) == (first, second)


def test_a_resolved_release_serves_every_read_from_one_release(two_releases):
    folder, first, switch = two_releases
    release = open_current(folder)
    switch()
    assert release.name == first and release.manifest["release"] == first
    assert parquet_release(release.parquet(MART)) == first
    with release.connect() as con:
        assert con.execute("select distinct release from release_info").fetchone()[0] == first
        assert con.execute(f"select count(*) from {MART}").fetchone()[0] == release.manifest["tables"][MART]["rows"]
    assert ".." not in str(release.path) and CURRENT not in release.path.parts


def test_one_open_file_stays_one_release_after_a_switch_and_pruning(two_releases):
    """The simple way: open the DuckDB file once and read every mart from it."""
    folder, first, switch = two_releases
    with duckdb.connect(str(folder / CURRENT / CONFIG.duckdb_file), read_only=True) as con:
        switch()
        prune(folder, keep=1)
        assert not (folder / RELEASES / first).exists()
        assert con.execute("select distinct release from release_info").fetchone()[0] == first
        counts = {m.name: con.execute(f"select count(*) from {m.name}").fetchone()[0] for m in CONFIG.marts}
    assert all(count > 0 for count in counts.values())
