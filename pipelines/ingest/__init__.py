"""The ingestion engine: readers, contracts, validation, staging and the store of the working database.

Dagster definitions that call it live in `pipelines/defs/ingest/`."""
