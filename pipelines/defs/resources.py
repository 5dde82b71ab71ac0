"""Resources shared by every domain, configured from the environment when a run starts."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource


class LandingFolder(dg.ConfigurableResource):
    """The folder where people drop input files. The pipeline only ever reads from it."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "duckdb": DuckDBResource(database=dg.EnvVar("WAREHOUSE_PATH")),
            "landing": LandingFolder(path=dg.EnvVar("LANDING_DIR")),
        }
    )
