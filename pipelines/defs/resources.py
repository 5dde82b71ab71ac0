"""Resources shared by every domain, configured from the environment when a run starts."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource


class Folder(dg.ConfigurableResource):
    """A folder of the deployment: ``landing`` (where people drop input files; only ever read) or
    ``publish_folder`` (releases for analysts; ``current`` points at the latest complete one)."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()


class Warehouse(DuckDBResource):
    """The working DuckDB database, every connection capped at ``memory_limit`` (``DUCKDB_MEMORY_LIMIT``).

    Without a cap DuckDB takes up to 80 % of the machine's memory for each process; with it, ingestion,
    checks and publication spill to disk instead, as dbt's own connections do (profiles.yml reads the same
    variable). The cap is a DuckDB size such as ``3GB``."""

    memory_limit: str

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as con:
            con.execute("set memory_limit = $limit", {"limit": self.memory_limit})
            yield con


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "duckdb": Warehouse(database=dg.EnvVar("WAREHOUSE_PATH"), memory_limit=dg.EnvVar("DUCKDB_MEMORY_LIMIT")),
            "landing": Folder(path=dg.EnvVar("LANDING_DIR")),
            "publish_folder": Folder(path=dg.EnvVar("PUBLISH_DIR")),
        }
    )
