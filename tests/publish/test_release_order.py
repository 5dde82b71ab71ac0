"""Releases are pruned before a new one is written, so a disk full of releases does not block every run."""

import errno
import os

import pytest

from pipelines.defs.publish import release as release_module
from pipelines.defs.publish.config import load_publication_config
from pipelines.defs.publish.release import CURRENT, RELEASES, activate, publish
from tests.publish.test_release import make_release

CONFIG = load_publication_config()


def full_folder(tmp_path):
    names = [f"2024010{i}T000000Z-r{i}" for i in range(1, CONFIG.releases_to_keep + 1)]
    for name in names:
        make_release(tmp_path, name)
    make_release(tmp_path, "20240109T000000Z-killed", complete=False)  # a run killed while writing
    activate(tmp_path, tmp_path / RELEASES / names[-1])
    return names


def test_old_releases_are_pruned_before_the_new_one_is_written(tmp_path, monkeypatch):
    names = full_folder(tmp_path)
    calls = []
    real_prune = release_module.prune

    def prune(publish_dir, keep):
        calls.append(("prune", keep))
        return real_prune(publish_dir, keep)

    def write_release(con, release_dir, config, run_id, input_state=None, write_docs=None):
        on_disk = sorted(p.name for p in (tmp_path / RELEASES).iterdir())
        calls.append(("write", len(on_disk)))
        make_release(tmp_path, release_dir.name)
        return []

    monkeypatch.setattr(release_module, "prune", prune)
    monkeypatch.setattr(release_module, "write_release", write_release)
    done = publish(None, tmp_path, CONFIG, "newrun00-0000")
    keep = CONFIG.releases_to_keep
    # while the new release is written, only keep - 1 old ones take space (the killed one is gone too)
    assert calls == [("prune", keep - 1), ("write", keep - 1), ("prune", keep)]
    assert os.readlink(tmp_path / CURRENT) == f"{RELEASES}/{done.release_dir.name}"
    assert names[0] in done.removed and "20240109T000000Z-killed" in done.removed
    assert len(list((tmp_path / RELEASES).iterdir())) == keep


def test_a_full_disk_leaves_room_for_the_next_run_and_current_untouched(tmp_path, monkeypatch):
    names = full_folder(tmp_path)

    def no_space(con, release_dir, config, run_id, input_state=None, write_docs=None):
        release_dir.mkdir(parents=True)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(release_module, "write_release", no_space)
    with pytest.raises(OSError, match="No space"):
        publish(None, tmp_path, CONFIG, "newrun00-0000")
    assert os.readlink(tmp_path / CURRENT) == f"{RELEASES}/{names[-1]}"
    left = sorted(p.name for p in (tmp_path / RELEASES).iterdir() if (p / "manifest.json").exists())
    assert left == names[-(CONFIG.releases_to_keep - 1) :]


def test_prune_to_zero_keeps_only_the_current_release(tmp_path):
    names = full_folder(tmp_path)
    release_module.prune(tmp_path, 0)
    assert [p.name for p in (tmp_path / RELEASES).iterdir()] == [names[-1]]
