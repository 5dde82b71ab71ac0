"""The README.txt of a release: what each file of the release is and how an analyst opens it, in Russian.

Written from the files the release actually holds (after the marts, the workbooks and the Data Docs), so
it names every one of them and nothing that is not there.
"""

from pathlib import Path

from pipelines.defs.publish.config import PublicationConfig

README = "README.txt"
DATA_DOCS = "data_docs"


def readme_text(release_dir: Path, config: PublicationConfig, manifest: str) -> str:
    titles = {mart.name: mart.title for mart in config.marts}
    lines = [
        f"Выпуск {release_dir.name}: мониторинг ШНОР, ШНСУ и объективности результатов ВПР",
        "",
        "Файлы выпуска только для чтения; следующий запуск пишет новый выпуск рядом и переключает на него",
        "папку current. Открывайте файлы из current: там всегда последний полный выпуск.",
        "",
    ]
    workbooks = sorted(p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*.xlsx"))
    if workbooks:
        lines.append("Excel (открыть в Excel или LibreOffice Calc; русские заголовки, лист на витрину):")
        lines += [f"  {name}" for name in workbooks]
        lines.append("")
    if (release_dir / config.duckdb_file).is_file():
        lines += [
            f"{config.duckdb_file} — все витрины в одной базе DuckDB (открыть: duckdb -readonly {config.duckdb_file},",
            "  или DBeaver, или Python: duckdb.connect(путь, read_only=True)); таблица release_info описывает",
            "  выпуск, column_headers — русские заголовки столбцов.",
            "",
        ]
    parquet = sorted((release_dir / config.parquet_folder).glob("*.parquet"))
    if parquet:
        lines.append(
            f"{config.parquet_folder}/ — полные таблицы витрин в Parquet (pandas.read_parquet, DuckDB, Power BI):"
        )
        lines += [f"  {p.name} — {titles.get(p.stem, p.stem)}" for p in parquet]
        lines.append("")
    if (release_dir / DATA_DOCS / "index.html").is_file():
        lines += [
            f"{DATA_DOCS}/index.html — отчёт о проверках качества данных (Great Expectations): открыть в браузере,",
            "  работает без интернета; по каждому набору — итог, не выполненные ожидания и строки с ошибкой.",
            "",
        ]
    lines += [
        f"{manifest} — список файлов выпуска с контрольными суммами (sha256) и числом строк витрин.",
        f"{README} — этот файл.",
        "",
        "Значения малых групп скрыты (пустые ячейки, отметка в отдельном столбце): защита персональных данных.",
        "Данных об отдельных участниках в выпуске нет.",
    ]
    return "\n".join(lines) + "\n"
