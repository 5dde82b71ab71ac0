#!/usr/bin/env bash
# Starts a local PostgreSQL from Debian's package on loopback and creates the role and database that the
# dbt `postgres` target uses (POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB; defaults below). The role may
# create databases: the test suite builds the models in a database of its own and drops it afterwards.
# Installs the package first when no server is on the machine, which needs root and apt.
# Safe to run again: an existing cluster, role or database is left as it is.
set -euo pipefail

POSTGRES_USER="${POSTGRES_USER:-monitoring}"
POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-monitoring}"
POSTGRES_DB="${POSTGRES_DB:-monitoring}"
POSTGRES_PORT="${POSTGRES_PORT:-5432}"

server_version() {
    ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(server_version)" ] || [ ! -x "/usr/lib/postgresql/$(server_version)/bin/postgres" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
version="$(server_version)"

if ! pg_lsclusters --no-header | awk '{print $1, $2}' | grep -qx "$version main"; then
    pg_createcluster --port "$POSTGRES_PORT" "$version" main >/dev/null
fi
if ! pg_lsclusters --no-header | awk '$1 == "'"$version"'" && $2 == "main" {print $4}' | grep -qx online; then
    pg_ctlcluster "$version" main start
fi

as_postgres() {
    (cd / && runuser -u postgres -- "$@")
}

if [ "$(as_postgres psql -p "$POSTGRES_PORT" -tAc "select 1 from pg_roles where rolname = '$POSTGRES_USER'")" != "1" ]; then
    as_postgres psql -p "$POSTGRES_PORT" -q -c "create role \"$POSTGRES_USER\" login createdb password '$POSTGRES_PASSWORD'"
fi
if [ "$(as_postgres psql -p "$POSTGRES_PORT" -tAc "select 1 from pg_database where datname = '$POSTGRES_DB'")" != "1" ]; then
    as_postgres createdb -p "$POSTGRES_PORT" -O "$POSTGRES_USER" "$POSTGRES_DB"
fi
echo "PostgreSQL $version on 127.0.0.1:$POSTGRES_PORT, database $POSTGRES_DB, role $POSTGRES_USER"
