"""The landing folder listing: the sources' globs match what glob itself matches, and one walk per block."""

import glob
import os

import pytest

from pipelines.ingest.listing import landing_files, matching, one_listing
from pipelines.ingest.sources import SOURCES

TREE = (
    "registry/schools.xlsx",
    "registry/gia_school_codes_2023.xlsx",
    "registry/old/schools.xlsx",
    "fioko/shnor_2023.xlsx",
    "fioko/objectivity_markers_2023.xlsx",
    "vpr/vpr_2023.parquet",
    "vpr/2023/sch860001/Математика 5 класс.xlsx",
    "vpr/2023/a/b/c/deep.xlsx",
    "vpr/top.xlsx",
    "vpr/2023/.hidden.xlsx",
    "vpr/.cache/2023/form.xlsx",
    "vpr_reports/2023/report.xlsx",
    "gia/gia_2023.csv",
    "gia/rcoi/ведомость.csv",
    "gia/rcoi/deeper/too_deep.csv",
    "social_passport/social_passport_2023.xlsx",
    "notes.txt",
)


@pytest.fixture
def landing(tmp_path):
    for file in TREE:
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).write_bytes(b"x")
    return tmp_path


@pytest.mark.parametrize("pattern", sorted({p for source in SOURCES.values() for p in source.patterns}))
def test_each_source_pattern_matches_what_glob_matches(landing, pattern):
    expected = sorted(f for f in glob.glob(pattern, root_dir=landing, recursive=True) if os.path.isfile(landing / f))
    assert matching(landing_files(landing), pattern) == expected


def test_hidden_files_and_folders_are_not_listed(landing):
    files = landing_files(landing)
    assert "vpr/2023/.hidden.xlsx" not in files
    assert not any(f.startswith("vpr/.cache/") for f in files)
    assert "notes.txt" in files and "vpr/2023/a/b/c/deep.xlsx" in files


def test_the_folder_is_walked_once_within_a_block_and_afresh_outside(landing):
    with one_listing():
        before = landing_files(landing)
        (landing / "vpr/2023/new.xlsx").write_bytes(b"x")
        assert landing_files(landing) == before
    assert "vpr/2023/new.xlsx" in landing_files(landing)
