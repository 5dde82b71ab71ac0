"""Bad or odd inputs an authority could send: each is reported precisely and loses no earlier rows."""

import os
import time

import pytest

from pipelines.ingest.load import load_landing
from tests.ingest.conftest import GIA_ROWS, SHNOR, VPR_HEADER


def _touch_later(path):
    """A rewritten file with a later mtime, so the loader sees it as changed."""
    later = time.time() + 5
    os.utime(path, (later, later))


def _rows(con, source, file):
    return con.execute(f"select count(*) from raw.{source} where _source_file = ?", [file]).fetchone()[0]


@pytest.mark.parametrize("source, write, file", [
    ("fioko_shnor", lambda l, rows: l.shnor(rows=SHNOR if rows else SHNOR[:1]), "fioko/shnor_2023.xlsx"),
    ("vpr_results", lambda l, rows: l.vpr_form() if rows else l.vpr_form(rows=[]),
     "vpr/2023/sch860001/Математика 5 класс.xlsx"),
    ("gia_results", lambda l, rows: l.gia(lines=GIA_ROWS if rows else GIA_ROWS[:1]), "gia/gia_2023.csv"),
], ids=["shnor", "vpr_form", "gia_csv"])
def test_a_header_only_version_does_not_wipe_the_rows_of_a_good_one(empty_landing, con, source, write, file):
    empty_landing.registry()
    write(empty_landing, True)
    load_landing(empty_landing.root, con, sources={"schools", source})
    before = _rows(con, source, file)
    assert before > 0

    _touch_later(write(empty_landing, False))
    report = load_landing(empty_landing.root, con, sources={"schools", source})[source]

    assert report.files_quarantined == [file]
    [issue] = [i for i in report.issues if i.rule == "empties_source"]
    assert issue.message == (
        f"{file}: this version has no rows, and would remove the {before} row(s) of its earlier version: it is "
        f"quarantined and those rows are kept. If the file is meant to be empty, put an empty file "
        f"«{file}.intentionally-empty» beside it (docs/inputs.md)")
    assert _rows(con, source, file) == before

    # the documented way to say «this is intentional»: the marker file; the quarantined version is read again
    (empty_landing.root / f"{file}.intentionally-empty").touch()
    report = load_landing(empty_landing.root, con, sources={"schools", source})[source]
    assert report.files_loaded == [file] and _rows(con, source, file) == 0


def test_a_first_version_without_rows_is_not_held_back(empty_landing, con):
    empty_landing.registry()
    empty_landing.shnor(rows=SHNOR[:1])
    report = load_landing(empty_landing.root, con, sources={"schools", "fioko_shnor"})["fioko_shnor"]
    assert report.files_loaded == ["fioko/shnor_2023.xlsx"]
