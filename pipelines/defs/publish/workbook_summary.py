"""The summary sheet of a workbook: what a head of department reads first, computed from the published marts.

ШНОР schools by year (computed and official), program targets met by year and the latest year's targets
against actual values, objectivity flags by review status, the schools that need attention in the
latest year and, in a workbook of all territories, the same figures by municipality. Every figure comes
from the release's own tables, so the summary agrees with the sheets and the DuckDB file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipelines.defs.publish.config import Highlight

SCHOOL_LIST_MAX = 300  # schools listed on a summary; the rest are on the marts' sheets


@dataclass(frozen=True)
class Chart:
    kind: str  # xlsxwriter chart type: column, bar, line
    title: str
    categories: str  # header of the categories' column
    series: Sequence[str]  # headers of the values' columns
    num_format: str
    rows: int = 16  # rows of the sheet the chart covers, so the next block starts below it


@dataclass(frozen=True)
class SummaryBlock:
    title: str
    headers: Sequence[str]
    kinds: Sequence[str]  # integer, percent, decimal, text
    rows: Sequence[tuple]
    empty_note: str = "Нет данных в этом выпуске."
    highlights: Sequence[Highlight] = ()  # by header
    chart: Chart | None = None
    notes: Sequence[str] = field(default_factory=tuple)


def _where(condition: str, *more: str) -> str:
    parts = [p for p in (condition, *more) if p]
    return f" where {' and '.join(parts)}" if parts else ""


def _shnor_by_year(con, table: str, where: str) -> SummaryBlock:
    rows = con.execute(f"""
        select year, count(*),
            count(*) filter (where is_shnor_computed),
            count(*) filter (where is_shnor_computed) / nullif(count(is_shnor_computed), 0),
            case when count(is_shnor_official) > 0 then count(*) filter (where is_shnor_official) end,
            count(*) filter (where is_shnor_official) / nullif(count(is_shnor_official), 0)
        from {table}{_where(where)} group by year order by year""").fetchall()
    return SummaryBlock(
        "ШНОР по годам перечня",
        ["Год", "ОО", "ШНОР по расчёту", "Доля ШНОР по расчёту", "В перечне ФИОКО", "Доля в перечне ФИОКО"],
        ["integer", "integer", "integer", "percent", "integer", "percent"],
        rows,
        chart=Chart("column", "Динамика ШНОР", "Год", ["ШНОР по расчёту", "В перечне ФИОКО"], "0"),
    )


def _targets_by_year(con, table: str, where: str) -> SummaryBlock:
    rows = con.execute(f"""
        select year, count(is_met), count(*) filter (where is_met), count(*) filter (where not is_met),
            count(*) filter (where is_met) / nullif(count(is_met), 0)
        from {table}{_where(where)} group by year order by year""").fetchall()
    return SummaryBlock(
        "Показатели программы: достижение целевых значений",
        ["Год", "Показателей с целью", "Достигнуто", "Не достигнуто", "Доля достигнутых"],
        ["integer", "integer", "integer", "integer", "percent"],
        rows,
    )


def _targets_latest(con, table: str, where: str) -> SummaryBlock:
    """Each percentage indicator's latest value at the broadest level in the workbook (region, or municipality)."""
    only_municipalities = con.execute(
        f"select bool_and(territory_level = 'municipality') from {table}{_where(where)}"
    ).fetchone()[0]
    territory = "territory_level = 'municipality'" if only_municipalities else "territory_level = 'region'"
    rows = con.execute(f"""
        select indicator_name || coalesce(', ' || grade || ' класс', '') || ' (' || year || ')',
            target_value / 100, actual_value / 100, case when is_met then 'да' when not is_met then 'нет' end
        from {table}{_where(where, territory, "unit = '%'", "target_value is not null")}
        qualify year = max(year) over (partition by indicator_code, grade)
        order by indicator_code, grade""").fetchall()
    return SummaryBlock(
        "Целевые и фактические значения (последний год каждого показателя)",
        ["Показатель", "Целевое значение", "Фактическое значение", "Достигнуто"],
        ["text", "percent", "percent", "text"],
        rows,
        highlights=[Highlight("Достигнуто", "нет", "alarm")],
        chart=Chart(
            "bar",
            "Цель и факт",
            "Показатель",
            ["Целевое значение", "Фактическое значение"],
            "0%",
            rows=max(16, 2 * len(rows)),
        ),
    )


def _objectivity_by_year(con, table: str, where: str) -> SummaryBlock:
    rows = con.execute(f"""
        select year, count(*), count(*) filter (where flagged),
            count(*) filter (where status = 'на проверке'), count(*) filter (where status = 'подтверждено'),
            count(*) filter (where status = 'снято')
        from {table}{_where(where)} group by year order by year""").fetchall()
    return SummaryBlock(
        "ОО с признаками необъективности результатов ВПР",
        ["Год", "ОО проверено", "ОО с признаками", "На проверке", "Подтверждено", "Снято"],
        ["integer"] * 6,
        rows,
        highlights=[],
    )


def _flagged_schools(con, flags: str, objectivity: str | None, where: str) -> SummaryBlock:
    pending = "null"
    join = ""
    if objectivity:
        pending_where = _where(where, "status = 'на проверке'")
        join = (
            f"left join (select login, string_agg(distinct year::varchar, ', ' order by year::varchar) as years "
            f"from {objectivity}{pending_where} group by login) as pending using (login)"
        )
        pending = "pending.years"
    latest_where = _where(where, "year = (select year from latest)")
    query = f"""
        with latest as (select max(year) as year from {flags}{_where(where)}),
        schools as (
            select login, school_name, municipality,
                case when is_shnor_computed then 'да' when not is_shnor_computed then 'нет' end as computed,
                case when is_shnor_official then 'да' when not is_shnor_official then 'нет' end as official,
                {pending} as pending
            from {flags} {join}
            {latest_where}
        )
        select * from schools where computed = 'да' or official = 'да' or pending is not null
        order by municipality, login"""
    rows = con.execute(query).fetchall()
    year = con.execute(f"select max(year) from {flags}{_where(where)}").fetchone()[0]
    shown = rows[:SCHOOL_LIST_MAX]
    notes = (
        ()
        if len(rows) <= SCHOOL_LIST_MAX
        else (f"Показаны {SCHOOL_LIST_MAX} из {len(rows)} ОО; все — на листах «ШНОР» и «Объективность по ОО».",)
    )
    return SummaryBlock(
        f"ОО, требующие внимания, {year} год" if year else "ОО, требующие внимания",
        [
            "Логин ОО",
            "Наименование ОО",
            "Муниципалитет",
            "ШНОР по расчёту",
            "В перечне ФИОКО",
            "Признаки на проверке (годы)",
        ],
        ["text"] * 6,
        shown,
        empty_note="Нет ОО в ШНОР и ОО с признаками на проверке.",
        highlights=[Highlight("ШНОР по расчёту", "да", "alarm"), Highlight("В перечне ФИОКО", "да", "alarm")],
        notes=notes,
    )


def _by_municipality(con, flags: str, objectivity: str | None) -> SummaryBlock:
    pending_join, pending = "", "null"
    if objectivity:
        pending_join = (
            f"left join (select municipality, count(distinct login) as pending_schools from {objectivity} "
            f"where status = 'на проверке' group by municipality) as pending using (municipality)"
        )
        pending = "pending.pending_schools"
    rows = con.execute(f"""
        with latest as (select max(year) as year from {flags}),
        shnor as (
            select municipality, count(*) as schools, count(*) filter (where is_shnor_computed) as computed,
                count(*) filter (where is_shnor_computed) / nullif(count(is_shnor_computed), 0) as share
            from {flags} where year = (select year from latest) group by municipality
        )
        select coalesce(municipality, 'не указан'), schools, computed, share, {pending}
        from shnor {pending_join} order by municipality""").fetchall()
    year = con.execute(f"select max(year) from {flags}").fetchone()[0]
    return SummaryBlock(
        f"По муниципалитетам, {year} год" if year else "По муниципалитетам",
        ["Муниципалитет", "ОО", "ШНОР по расчёту", "Доля ШНОР по расчёту", "ОО с признаками на проверке"],
        ["text", "integer", "integer", "percent", "integer"],
        rows,
    )


def summary_blocks(con, tables: Mapping[str, str], where: str = "") -> list[SummaryBlock]:
    """The summary's tables from the published marts present in ``tables`` (mart name → table)."""
    flags, kpis, objectivity = (
        tables.get(name) for name in ("school_flags", "program_kpis", "objectivity_school_year")
    )
    blocks = []
    if flags:
        blocks.append(_shnor_by_year(con, flags, where))
    if kpis:
        blocks += [_targets_by_year(con, kpis, where), _targets_latest(con, kpis, where)]
    if objectivity:
        blocks.append(_objectivity_by_year(con, objectivity, where))
    if flags:
        blocks.append(_flagged_schools(con, flags, objectivity, where))
        if not where:
            blocks.append(_by_municipality(con, flags, objectivity))
    return blocks
