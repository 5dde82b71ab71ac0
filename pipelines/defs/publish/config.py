"""What is published, under which Russian headers and with which suppression: ``config/publication.yml``.

The configuration is data: adding a mart to the publication, renaming a header or changing the minimum
group size is an edit of that file, and the publish assets follow it when the code location reloads.
Only aggregated marts can be published: a relation outside the mart schemas, or one carrying a column
that identifies participants, is refused when the configuration is read.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

CONFIG_PATH = Path(__file__).resolve().parents[3] / "config" / "publication.yml"


class PublicationConfigError(ValueError):
    """config/publication.yml asks for something that must not or cannot be published."""


@dataclass(frozen=True)
class Suppression:
    """Cells of groups smaller than ``min_n`` (counted by ``count_column``) are published empty."""

    count_column: str
    min_n: int
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Highlight:
    """Workbook rows whose ``column`` shows ``equals`` are coloured by ``style`` (alarm, warning, good)."""

    column: str
    equals: str
    style: str


@dataclass(frozen=True)
class WorkbookConfig:
    """How the Excel workbooks are cut and formatted (``workbook:`` of config/publication.yml)."""

    split_column: str  # one workbook per value of this column when the school-level rows are too many
    split_above_rows: int
    folder: str  # the territories' workbooks, under the release
    in_memory_rows: int  # a workbook with more rows is streamed: filters instead of Excel tables
    workers: int  # processes writing the territories' workbooks
    number_formats: dict[str, str]  # column → Excel number format
    labels: dict[str, dict[str, str]]  # column → code → Russian label, for the whole cell
    replacements: dict[str, dict[str, str]]  # column → code → Russian label, for each code in a list


@dataclass(frozen=True)
class PublishedMart:
    name: str  # file, table and asset name: publish/<name>
    relation: str  # <schema>.<table> in the working database
    sheet: str
    title: str
    columns: dict[str, str]  # column → Russian header, in publication order
    where: str | None
    order_by: tuple[str, ...]
    freeze_columns: int  # key columns kept in view when scrolling the Excel sheet
    suppression: Suppression | None
    highlights: tuple[Highlight, ...] = ()

    @property
    def model(self) -> str:
        """The dbt model the mart is published from: the table of its relation."""
        return self.relation.rpartition(".")[2]


@dataclass(frozen=True)
class PublicationConfig:
    releases_to_keep: int
    duckdb_file: str
    excel_file: str
    parquet_folder: str
    suppressed_flag_column: str
    suppressed_flag_header: str
    allowed_schemas: tuple[str, ...]
    forbidden_columns: tuple[str, ...]
    marts: tuple[PublishedMart, ...]
    workbook: WorkbookConfig


def _mart(entry: dict, defaults: dict) -> PublishedMart:
    suppression = entry.get("suppression")
    return PublishedMart(
        name=entry["name"],
        relation=entry["relation"],
        sheet=entry["sheet"],
        title=entry["title"],
        columns=dict(entry["columns"]),
        where=entry.get("where"),
        order_by=tuple(entry.get("order_by", ())),
        freeze_columns=int(entry.get("freeze_columns", 1)),
        suppression=None
        if suppression is None
        else Suppression(
            count_column=suppression["count_column"],
            min_n=int(suppression.get("min_n", defaults["min_cell_size"])),
            columns=tuple(suppression["columns"]),
        ),
        highlights=tuple(Highlight(h["column"], str(h["equals"]), h["style"]) for h in entry.get("highlight", ())),
    )


def _dictionary(raw: dict | None) -> dict[str, dict[str, str]]:
    return {column: {str(code): str(label) for code, label in values.items()} for column, values in (raw or {}).items()}


def _workbook(raw: dict, folder: Path) -> WorkbookConfig:
    labels = yaml.safe_load((folder / raw["labels"]).read_text(encoding="utf-8"))
    return WorkbookConfig(
        split_column=raw["split"]["column"],
        split_above_rows=int(raw["split"]["above_rows"]),
        folder=raw["split"]["folder"],
        in_memory_rows=int(raw["in_memory_rows"]),
        workers=int(raw.get("workers", 1)),
        number_formats=dict(raw.get("number_formats") or {}),
        labels=_dictionary(labels.get("values")),
        replacements=_dictionary(labels.get("replace")),
    )


def _refuse_personal_data(config: PublicationConfig) -> None:
    """Participant-level relations and columns never leave the working database (152-ФЗ)."""
    for mart in config.marts:
        schema = mart.relation.split(".")[0]
        if schema not in config.allowed_schemas:
            raise PublicationConfigError(
                f"{mart.name}: {mart.relation} is not in a mart schema ({', '.join(config.allowed_schemas)})"
            )
        forbidden = sorted(set(mart.columns) & set(config.forbidden_columns))
        if forbidden:
            raise PublicationConfigError(f"{mart.name}: participant-level columns {forbidden} cannot be published")
        if mart.suppression and not set(mart.suppression.columns) <= set(mart.columns):
            raise PublicationConfigError(f"{mart.name}: suppressed columns must be published columns")
        if len(mart.sheet) > 31:
            raise PublicationConfigError(f"{mart.name}: Excel sheet names have at most 31 characters: {mart.sheet}")
        unknown = sorted({h.column for h in mart.highlights} - set(mart.columns))
        if unknown:
            raise PublicationConfigError(f"{mart.name}: highlighted columns {unknown} are not published")


def load_publication_config(path: Path = CONFIG_PATH) -> PublicationConfig:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults = {"min_cell_size": int(raw["min_cell_size"])}
    config = PublicationConfig(
        releases_to_keep=int(raw["releases_to_keep"]),
        duckdb_file=raw["files"]["duckdb"],
        excel_file=raw["files"]["excel"],
        parquet_folder=raw["files"]["parquet_folder"],
        suppressed_flag_column=raw["suppressed_flag"]["column"],
        suppressed_flag_header=raw["suppressed_flag"]["header"],
        allowed_schemas=tuple(raw["allowed_schemas"]),
        forbidden_columns=tuple(raw["forbidden_columns"]),
        marts=tuple(_mart(entry, defaults) for entry in raw["marts"]),
        workbook=_workbook(raw["workbook"], CONFIG_PATH.parent),  # the labels are in the project's config/
    )
    _refuse_personal_data(config)
    return config
