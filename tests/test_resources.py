"""The warehouse resource: every connection it gives is capped at DUCKDB_MEMORY_LIMIT."""

import dagster as dg

from pipelines.defs.resources import Warehouse


def test_warehouse_connections_are_capped_at_the_configured_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "700MB")
    seen = {}

    @dg.asset
    def reads_the_cap(duckdb: Warehouse) -> None:
        with duckdb.get_connection() as con:
            seen["limit"] = con.execute("select current_setting('memory_limit')").fetchall()[0][0]

    warehouse = Warehouse(database=str(tmp_path / "w.duckdb"), memory_limit=dg.EnvVar("DUCKDB_MEMORY_LIMIT"))
    assert dg.materialize([reads_the_cap], resources={"duckdb": warehouse}).success
    # DuckDB reports the cap in binary units: 700 MB is 667.5 MiB.
    assert seen["limit"] == "667.5 MiB"


def test_the_pipelines_warehouse_reads_its_cap_from_the_environment():
    from pipelines.definitions import defs

    resource = defs().resources["duckdb"]
    assert isinstance(resource, Warehouse)
    assert resource.memory_limit == dg.EnvVar("DUCKDB_MEMORY_LIMIT")
