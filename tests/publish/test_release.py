"""Release mechanics without the pipeline: atomic swap, pruning, refusing personal data, suppression SQL."""

import os

import duckdb
import pytest

from pipelines.defs.publish.config import CONFIG_PATH, PublicationConfigError, load_publication_config
from pipelines.defs.publish.release import CURRENT, MANIFEST, RELEASES, activate, prune, published_select

CONFIG = load_publication_config()


def make_release(publish_dir, name: str, complete: bool = True):
    release = publish_dir / RELEASES / name
    release.mkdir(parents=True)
    (release / "monitoring.xlsx").write_bytes(name.encode())
    if complete:
        (release / MANIFEST).write_text("{}")
    return release


def test_activate_swaps_the_link_and_leaves_no_temporary_link(tmp_path):
    first, second = make_release(tmp_path, "20240301T060000Z-aaaa"), make_release(tmp_path, "20241101T060000Z-bbbb")
    activate(tmp_path, first)
    with open(tmp_path / CURRENT / "monitoring.xlsx", "rb") as open_file:  # an analyst keeps it open
        activate(tmp_path, second)
        assert open_file.read() == b"20240301T060000Z-aaaa"
    assert os.readlink(tmp_path / CURRENT) == f"{RELEASES}/20241101T060000Z-bbbb"
    assert sorted(p.name for p in tmp_path.iterdir()) == [CURRENT, RELEASES]


def test_prune_keeps_the_newest_complete_releases_and_the_current_one(tmp_path):
    names = [f"2024010{i}T000000Z-r{i}" for i in range(1, 8)]
    for name in names:
        make_release(tmp_path, name)
    make_release(tmp_path, "20240108T000000Z-broken", complete=False)
    activate(tmp_path, tmp_path / RELEASES / names[0])  # rolled back to the oldest one
    removed = prune(tmp_path, keep=3)
    kept = sorted(p.name for p in (tmp_path / RELEASES).iterdir())
    assert kept == [names[0], *names[-3:]]
    assert "20240108T000000Z-broken" in removed


def edited_config(tmp_path, old: str, new: str):
    path = tmp_path / "publication.yml"
    text = CONFIG_PATH.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_participant_level_relations_cannot_be_configured(tmp_path):
    participant_table = edited_config(
        tmp_path, "relation: objectivity.mart_objectivity_flags", "relation: staging.stg_vpr_results"
    )
    with pytest.raises(PublicationConfigError, match="not in a mart schema"):
        load_publication_config(participant_table)
    participant_column = edited_config(
        tmp_path, "      reason: Обоснование", "      reason: Обоснование\n      participant_code: Код участника"
    )
    with pytest.raises(PublicationConfigError, match="participant-level"):
        load_publication_config(participant_column)


def test_suppression_empties_small_groups_and_flags_them():
    mart = next(m for m in CONFIG.marts if m.name == "school_work_indicators")
    numeric = set(mart.suppression.columns) | {mart.suppression.count_column}
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        f"create table {mart.relation} as select "
        + ", ".join(
            f"{'n' if c in numeric else 'cast(n as varchar)'} as {c}"
            for c in dict.fromkeys([*mart.columns, *mart.order_by])
        )
        + f" from (values ({mart.suppression.min_n - 1}.0), ({mart.suppression.min_n}.0)) as t(n)"
    )
    rows = con.execute(published_select(mart, CONFIG)).df()
    small = rows[CONFIG.suppressed_flag_column]
    assert list(small) == [True, False]
    suppressed = list(mart.suppression.columns)
    assert rows.loc[small, suppressed].isna().all().all() and rows.loc[~small, suppressed].notna().all().all()
    assert rows[mart.suppression.count_column].notna().all()
