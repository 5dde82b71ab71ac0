"""Which inputs the published marts were built from, so a run can tell whether they are still current.

The input state is a fingerprint of everything the monitoring job reads: the versions of the loaded
files in force (``ops.loaded_files`` without replaced versions), the review file, the dbt project, the
suites and the publication settings.
The publication step records it twice, in the same step that switches ``current``:

- in the release's ``manifest.json`` (``input_state``), next to the files it describes;
- in the working database (``ops.publication_state``), together with the release name.

Every dbt build clears the working database's record before it starts, because from then on the marts
in the working database are no longer the ones that were published. The published marts are up to date
when both records name the current release and the current input state, and the marts exist in the
working database (see ``published_state_matches``). A past successful run with the same inputs is not
enough: the inputs may have changed and changed back since, or the working database may be new.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[3]
STATE_GLOBS = (
    "dbt_project/dbt_project.yml",
    "dbt_project/models/**/*",
    "dbt_project/seeds/**/*",
    "dbt_project/macros/**/*",
    "dbt_project/tests/**/*",
    "dbt_project/packages_local/**/*",
    "dbt_project/packages.yml",
    "expectations/*.json",
    "config/publication.yml",
)
REVIEWS = Path("reviews") / "reviews.csv"
STATE_TABLE = "ops.publication_state"


def input_state(con, landing_dir: Path) -> str:
    """Fingerprint of everything the monitoring job reads, from a connection to the working database."""
    digest = hashlib.sha256()
    has_files = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'ops' and table_name = 'loaded_files'"
    ).fetchone()[0]
    if has_files:
        # the versions in force, not the history: replaced versions no longer feed the marts
        for row in con.execute(
            "select source, file, sha256, status from ops.loaded_files where status <> 'replaced' order by all"
        ).fetchall():
            digest.update(repr(row).encode())
    config_files = sorted(path for pattern in STATE_GLOBS for path in REPO_ROOT.glob(pattern) if path.is_file())
    for path in [*config_files, Path(landing_dir) / REVIEWS]:
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def _ensure(con) -> None:
    con.execute("create schema if not exists ops")
    con.execute(
        f"create table if not exists {STATE_TABLE} "
        "(release varchar, input_state varchar, run_id varchar, recorded_at timestamp default current_timestamp)"
    )


def record_published(con, release: str, state: str, run_id: str) -> None:
    """The marts of the working database are the ones published as ``release``, built from ``state``."""
    _ensure(con)
    con.execute(f"delete from {STATE_TABLE}")
    con.execute(f"insert into {STATE_TABLE} (release, input_state, run_id) values (?, ?, ?)", [release, state, run_id])


def published_run_id(con) -> str | None:
    """The run that published the working database's marts, when they are the published ones."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'ops' and table_name = 'publication_state'"
    ).fetchone()[0]
    row = con.execute(f"select run_id from {STATE_TABLE}").fetchone() if exists else None
    return row[0] if row else None


def clear_published(con) -> None:
    """Called before a dbt build: the working database's marts are about to differ from the publication."""
    _ensure(con)
    con.execute(f"delete from {STATE_TABLE}")


def current_manifest(publish_dir: Path) -> dict | None:
    """The manifest of the release ``current`` points at, or None when there is no complete release."""
    from pipelines.defs.publish.release import CURRENT, MANIFEST

    try:
        release = (Path(publish_dir) / CURRENT).resolve(strict=True)
        return json.loads((release / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def published_state_matches(warehouse: Path, publish_dir: Path, state: str, relations: list[str]) -> tuple[bool, str]:
    """Whether the current release and the working database's marts were built from ``state``.

    Returns the verdict and a short reason that the run prints when it rebuilds.
    """
    manifest = current_manifest(publish_dir)
    if manifest is None:
        return False, "полного выпуска ещё нет"
    if manifest.get("input_state") != state:
        return False, f"входные данные изменились после выпуска {manifest.get('release')}"
    release = manifest.get("release")
    missing_files = [name for name in manifest.get("files", {}) if not (Path(publish_dir) / "current" / name).is_file()]
    if missing_files:
        return False, f"в выпуске {release} нет {', '.join(missing_files[:3])}"
    if not Path(warehouse).exists():
        return False, "рабочей базы нет"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        existing = {
            f"{schema}.{name}"
            for schema, name in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }
        if STATE_TABLE not in existing:
            return False, "в рабочей базе нет записи о публикации"
        recorded = con.execute(f"select release, input_state from {STATE_TABLE}").fetchall()
    if recorded != [(release, state)]:
        return False, "витрины рабочей базы пересобраны или относятся к другому выпуску"
    absent = [relation for relation in relations if relation not in existing]
    if absent:
        return False, f"в рабочей базе нет {', '.join(absent[:3])}"
    return True, f"выпуск {release} собран из этих же входных данных"
