-- Bookkeeping of ingestion: which version of which landing file was loaded or quarantined, and why.
create schema if not exists ops;

-- One row per version (sha256) of a landing file that was read.
--   loaded       its rows are in the raw table (at most one loaded version per file)
--   quarantined  it broke its contract; nothing of it was written (an earlier loaded version stays)
--   replaced     a newer version of the file was read since
create table if not exists ops.loaded_files (
    source varchar not null,          -- raw table name, e.g. 'vpr_results'
    file varchar not null,            -- path relative to the landing folder
    sha256 varchar not null,
    status varchar not null,
    rows integer not null,            -- rows written to the raw table
    rows_rejected integer not null,   -- rows left out by row-level quarantine
    errors integer not null,          -- failing cells, rows or file-level problems
    warnings integer not null,        -- issues recorded without rejecting anything
    size_bytes bigint not null,
    modified_ns bigint not null,      -- with size_bytes, lets an untouched file skip hashing
    registry_sha256 varchar,          -- registry version the logins were checked against
    row_level_quarantine boolean not null,  -- validated keeping the good rows of a failing file
    loaded_at timestamp not null
);

-- Issues of the current versions of landing files, up to a cap per file (counts are in ops.loaded_files).
create table if not exists ops.quarantine (
    source varchar not null,
    file varchar not null,
    sheet varchar,
    row_number integer,               -- as a person sees it: Excel row, CSV line, Parquet row (1-based)
    column_name varchar,              -- the header in the file
    value varchar,
    rule varchar not null,
    severity varchar not null,        -- error: the file (or row) was rejected; warning: loaded anyway
    message varchar not null,
    file_sha256 varchar not null,
    detected_at timestamp not null
);
