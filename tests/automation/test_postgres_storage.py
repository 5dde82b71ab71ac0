"""Dagster's own storage on PostgreSQL, with the instance settings of config/dagster_postgres.yaml.

The reference ingestion (registry, FIOKO lists, passports, reviews) runs on the sample with an instance
whose runs and event log live in a scratch PostgreSQL database; the run and its materialisations must be
read back from that database.
"""

import shutil

import dagster as dg
import psycopg2

from pipelines.defs.automation.jobs import REFERENCE_INGEST_SELECTION
from tests.conftest import REPO_ROOT


def test_runs_and_materialisations_are_stored_in_postgres(pipeline_env, postgres_database, monkeypatch, tmp_path):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    from pipelines.definitions import defs

    home = tmp_path / "dagster_home_pg"
    home.mkdir()
    shutil.copy(REPO_ROOT / "config" / "dagster_postgres.yaml", home / "dagster.yaml")
    for variable, key in {
        "DAGSTER_PG_HOST": "host",
        "DAGSTER_PG_PORT": "port",
        "DAGSTER_PG_USER": "user",
        "DAGSTER_PG_PASSWORD": "password",
        "DAGSTER_PG_DB": "dbname",
    }.items():
        monkeypatch.setenv(variable, str(postgres_database[key]))
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    definitions = defs()
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        result = definitions.resolve_job_def("monitoring_job").execute_in_process(
            instance=instance,
            asset_selection=list(REFERENCE_INGEST_SELECTION.resolve(definitions.resolve_asset_graph())),
            raise_on_error=False,
        )
        assert result.success
        schools = instance.get_latest_materialization_event(dg.AssetKey(["raw", "schools"]))
        assert schools is not None and schools.run_id == result.run_id

    with psycopg2.connect(**postgres_database) as server, server.cursor() as cursor:
        cursor.execute("select status from runs where run_id = %s", (result.run_id,))
        assert cursor.fetchone() == ("SUCCESS",)
        cursor.execute(
            "select count(*) from event_logs where run_id = %s and dagster_event_type = 'ASSET_MATERIALIZATION'",
            (result.run_id,),
        )
        assert cursor.fetchone()[0] >= 5
