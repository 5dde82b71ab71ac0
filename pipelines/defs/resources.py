"""Resources shared by every domain, configured from the environment when a run starts."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource


class Folder(dg.ConfigurableResource):
    """A folder of the deployment: ``landing`` (where people drop input files; only ever read) or
    ``publish_folder`` (releases for analysts; ``current`` points at the latest complete one)."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "duckdb": DuckDBResource(database=dg.EnvVar("WAREHOUSE_PATH")),
            "landing": Folder(path=dg.EnvVar("LANDING_DIR")),
            "publish_folder": Folder(path=dg.EnvVar("PUBLISH_DIR")),
        }
    )
