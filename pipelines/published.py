"""Reading a publication so that every read comes from one release, whenever ``current`` is switched.

``$PUBLISH_DIR/current`` is a symlink that a publication swaps atomically. A path through it is resolved
at each ``open``: a reader who opens ``current/monitoring.duckdb`` and a little later
``current/parquet/<mart>.parquet`` may get two releases if a publication happened in between. Two safe
ways to read:

1. **One file** (the simple way): open ``current/monitoring.duckdb`` (read-only) once and read every mart
   from it. It holds all published marts and says which release it is (``release_info``); so does
   ``current/monitoring.xlsx`` while the release is small enough for one workbook (its summary and
   contents sheets name the release; above ``workbook.split.above_rows`` the school rows are in one
   workbook per municipality, ``excel/<municipality>.xlsx``, listed in the manifest). An open file stays
   readable even after its release is pruned (POSIX), and release files are never changed.
2. **Several files**: resolve ``current`` once and read everything under the resolved directory::

       from pipelines.published import open_current

       release = open_current("data/published")
       con = release.connect()                       # read-only DuckDB connection to this release
       df = pd.read_parquet(release.parquet("mart_school_flags"))
       release.manifest["input_state"], release.name

   Every Parquet file also names its release in its key-value metadata (``release``), so a reader can
   check files it got some other way. A resolved release survives the next ``releases_to_keep - 1``
   publications, so a reader that resolved it has that long to open its files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.defs.publish.release import CURRENT, MANIFEST


@dataclass(frozen=True)
class PublishedRelease:
    path: Path  # releases/<name>, never through ``current``
    manifest: dict

    @property
    def name(self) -> str:
        return self.path.name

    def file(self, relative: str) -> Path:
        return self.path / relative

    def parquet(self, mart: str, folder: str = "parquet") -> Path:
        return self.path / folder / f"{mart}.parquet"

    def connect(self, file: str = "monitoring.duckdb") -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path / file), read_only=True)


def open_current(publish_dir: str | Path) -> PublishedRelease:
    """The release ``current`` points at now, resolved once; raises FileNotFoundError without one."""
    path = (Path(publish_dir) / CURRENT).resolve(strict=True)
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    return PublishedRelease(path, manifest)


def parquet_release(path: str | Path) -> str | None:
    """The release a published Parquet file belongs to, from its key-value metadata."""
    rows = duckdb.execute("select key::varchar, value::varchar from parquet_kv_metadata(?)", [str(path)]).fetchall()
    return dict(rows).get("release")
