"""Which reader reads which source, and reading one landing file in a worker-safe way."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from pipelines.ingest.readers import (
    UNREADABLE,
    ParsedFile,
    ReadError,
    read_gia_school_codes,
    read_login_aliases,
    read_objectivity_markers,
    read_risk_profiles,
    read_schools,
    read_shnor,
    read_social_passport,
)
from pipelines.ingest.vpr_reader import read_vpr_workbook
from pipelines.ingest.vpr_reports import read_vpr_report

READERS: dict[str, Callable[[str, bytes], ParsedFile]] = {
    "schools": read_schools,
    "login_aliases": read_login_aliases,
    "fioko_shnor": read_shnor,
    "fioko_objectivity_markers": read_objectivity_markers,
    "fioko_risk_profiles": read_risk_profiles,
    "social_passport": read_social_passport,
    "vpr_results": read_vpr_workbook,
    "gia_school_codes": read_gia_school_codes,
    "vpr_report_counts": read_vpr_report,
}


def read_file(source: str, path: str, data: bytes) -> ParsedFile | ReadError:
    """Runs the source's reader; a read failure is returned, not raised, so worker processes can report it."""
    try:
        return READERS[source](path, data)
    except ReadError as error:
        return error


def read_path(job: tuple[str, str, str]) -> tuple[str, str, int, int, ParsedFile | ReadError]:
    """(file, sha256, size, mtime, what was read) for (source, file, absolute path): the bytes are read
    once, for both the fingerprint and the parse. Kept here so worker processes import no more than this."""
    source, file, path = job
    try:
        stat = os.stat(path)
        data = Path(path).read_bytes()
    except OSError as error:
        return file, "", 0, 0, ReadError(UNREADABLE.id, f"could not be opened ({error.strerror})")
    return file, hashlib.sha256(data).hexdigest(), stat.st_size, stat.st_mtime_ns, read_file(source, file, data)
