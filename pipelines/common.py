"""Small helpers every part of the pipeline shares: file fingerprints, SQL literals, text decoding."""

import datetime as dt
import hashlib
from pathlib import Path

# The dbt project and its seeds (configuration as data: works, scales, thresholds, rule sets per year).
DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"

_BLOCK = 1 << 20
_UTF8_BOM = b"\xef\xbb\xbf"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks so a large file is never held in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def sql_literal(text: str) -> str:
    """A string as a SQL literal (DuckDB and PostgreSQL): quotes doubled, nothing else escaped."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A column or table name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def decode_utf8_or_cp1251(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else cp1251, as Excel on Windows saves CSV.

    A BOM says the file is UTF-8, so after one there is no fallback. Raises ``UnicodeDecodeError`` when the
    bytes are neither (cp1251 leaves one byte, 0x98, undefined).
    """
    if data.startswith(_UTF8_BOM):
        return data[len(_UTF8_BOM) :].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def parse_datetime(text: str, formats: tuple[str, ...]) -> dt.datetime | None:
    """The first of ``formats`` that reads the whole of ``text``, else None.

    Not ``pd.to_datetime(format="mixed")``: it also reads what a person did not mean as a date of these forms
    (``2024-13-01`` as 13 January, ``March 5 2024``) and, with ``dayfirst``, swaps month and day of an ISO
    date with surrounding spaces; a review decision or an exam date must be one of the documented forms.
    """
    for pattern in formats:
        try:
            return dt.datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None
