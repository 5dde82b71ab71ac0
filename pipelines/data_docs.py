"""Great Expectations Data Docs that open offline, for the release folder.

The pages Great Expectations renders load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from
public CDNs, and its index page is drawn by bootstrap-table from JavaScript data: offline the index is
blank and the other pages lose their styles. Great Expectations ships only its own stylesheet, fonts and
images (copied into ``static/``), so the copy in a release keeps the rendered HTML of each page, drops
every remote stylesheet, script and image, styles the pages with that shipped stylesheet and a small one
of this project, and gets an index of its own in Russian (static HTML, no script). A link to a page that
is not in the copy is turned into plain text, so the copy has no dead links.
"""

from __future__ import annotations

import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

OFFLINE_CSS = "static/styles/offline.css"
INDEX = "index.html"

_REMOTE = r"(?:https?:)?//"
_REMOTE_LINK_TAG = re.compile(rf"<link\b[^>]*\bhref=\"{_REMOTE}[^\"]*\"[^>]*>\s*", re.I)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>\s*", re.I | re.S)
_REMOTE_IMG = re.compile(rf"<img\b[^>]*\bsrc=\"{_REMOTE}[^\"]*\"[^>]*/?>", re.I | re.S)
_REMOTE_URL = re.compile(rf"url\(['\"]?{_REMOTE}[^)]*\)", re.I)
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.I | re.S)
_HREF = re.compile(r"\bhref=\"([^\"]*)\"", re.I)
_LOCAL_REF = re.compile(r"\b(?:href|src)=\"([^\"#:]+)(?:#[^\"]*)?\"", re.I)
_LINK_TAG = re.compile(r"<link\b[^>]*>\s*", re.I)
_HEAD_END = re.compile(r"</head>", re.I)

STYLESHEET = """\
body { font-family: "HKGrotesk", Arial, sans-serif; margin: 0; padding: 0 1.5rem 3rem; color: #212529; }
nav, .sticky { position: static !important; }
a { color: #0b5cad; }
table { border-collapse: collapse; margin: .5rem 0 1rem; max-width: 100%; }
th, td { border: 1px solid #ccd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
thead th, th { background: #eef1f5; }
.alert-danger, .text-danger { color: #a00; }
.alert-success, .text-success { color: #176117; }
.badge { display: inline-block; padding: 0 .3rem; border-radius: .2rem; background: #eef1f5; }
ul.nav { list-style: none; padding-left: 0; }
.row { display: block; }
.card, .ge-section { margin-bottom: 1rem; }
code, pre { background: #f4f4f6; padding: 0 .2rem; }
footer { display: none; }
.status-ok { color: #176117; font-weight: 600; }
.status-failed { color: #a00; font-weight: 600; }
"""


@dataclass(frozen=True)
class DocsEntry:
    """One suite in the offline index: its latest validation result and where its pages are."""

    suite: str
    description: str
    success: bool
    evaluated: int
    failed: int
    run_time: str
    validation_page: str | None
    suite_page: str | None


def offline_page(text: str, depth: int) -> str:
    """The page without remote stylesheets, scripts and images, styled by the stylesheets in ``static/``."""
    up = "../" * depth
    text = _REMOTE_LINK_TAG.sub("", text)
    text = _SCRIPT.sub("", text)
    text = _REMOTE_IMG.sub(
        lambda m: f'<img src="{up}static/images/logo-long.png" alt="Great Expectations" style="height: 40px"/>', text
    )
    text = _REMOTE_URL.sub("none", text)
    text = _ANCHOR.sub(_without_remote_target, text)
    links = (
        f'<link rel="stylesheet" href="{up}static/styles/data_docs_default_styles.css"/>\n'
        f'<link rel="stylesheet" href="{up}{OFFLINE_CSS}"/>\n'
    )
    return _HEAD_END.sub(lambda m: links + m.group(0), text, count=1)


def _without_remote_target(match: re.Match) -> str:
    href = _HREF.search(match.group(1))
    if href and re.match(_REMOTE, href.group(1)):
        return f"<span>{match.group(2)}</span>"
    return match.group(0)


def unlink_missing(text: str, page: Path) -> str:
    """Links to files that do not exist beside the page become plain text; a ``<link>`` to a missing file
    goes (Great Expectations points the favicon of result pages one folder too high)."""

    def missing(tag: str) -> bool:
        href = _HREF.search(tag)
        if not href or href.group(1).startswith(("#", "mailto:")) or ":" in href.group(1).split("/")[0]:
            return False
        return not (page.parent / href.group(1).split("#")[0]).exists()

    text = _LINK_TAG.sub(lambda m: "" if missing(m.group(0)) else m.group(0), text)
    return _ANCHOR.sub(lambda m: f"<span>{m.group(2)}</span>" if missing(m.group(1)) else m.group(0), text)


def missing_references(site: Path) -> list[str]:
    """``page: reference`` for every local href or src of every page that points at no file."""
    missing = []
    for page in sorted(site.rglob("*.html")):
        for ref in _LOCAL_REF.findall(page.read_text(encoding="utf-8")):
            if ref and not (page.parent / ref).exists():
                missing.append(f"{page.relative_to(site).as_posix()}: {ref}")
    return missing


def make_offline(site: Path, entries: list[DocsEntry], title: str) -> None:
    """Rewrites every page of a built site for offline reading and writes the Russian index."""
    (site / OFFLINE_CSS).parent.mkdir(parents=True, exist_ok=True)
    (site / OFFLINE_CSS).write_text(STYLESHEET, encoding="utf-8")
    (site / INDEX).write_text(index_page(entries, title), encoding="utf-8")
    pages = [p for p in site.rglob("*.html") if p != site / INDEX]
    for page in pages:
        depth = len(page.relative_to(site).parts) - 1
        page.write_text(offline_page(page.read_text(encoding="utf-8"), depth), encoding="utf-8")
    for page in [*pages, site / INDEX]:
        page.write_text(unlink_missing(page.read_text(encoding="utf-8"), page), encoding="utf-8")


def index_page(entries: list[DocsEntry], title: str) -> str:
    rows = []
    for entry in entries:
        status = (
            '<span class="status-ok">пройден</span>'
            if entry.success
            else '<span class="status-failed">не пройден</span>'
        )
        name = html.escape(entry.suite)
        validation = (
            f'<a href="{html.escape(entry.validation_page)}">результаты проверки</a>'
            if entry.validation_page
            else "нет результатов"
        )
        suite = f'<a href="{html.escape(entry.suite_page)}">ожидания набора</a>' if entry.suite_page else ""
        rows.append(
            f"<tr><td><strong>{name}</strong><br/>{html.escape(entry.description)}</td><td>{status}</td>"
            f"<td>{entry.evaluated}</td><td>{entry.failed}</td><td>{html.escape(entry.run_time)}</td>"
            f"<td>{validation}<br/>{suite}</td></tr>"
        )
    return f"""<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="UTF-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1.0"/>
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="static/styles/data_docs_default_styles.css"/>
<link rel="stylesheet" href="{OFFLINE_CSS}"/>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>Последняя проверка каждого набора ожиданий Great Expectations перед этой публикацией.
Блокирующий набор, который не пройден, останавливает публикацию; набор объективности
не пройден, пока есть признаки на проверке.</p>
<table>
<thead><tr><th>Набор</th><th>Итог</th><th>Ожиданий проверено</th><th>Не выполнено</th>
<th>Время проверки (UTC)</th><th>Страницы</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""


def latest_results(results_dir: Path) -> dict[str, Path]:
    """The newest stored validation result of each suite: ``<suite>/<run name>/<run time>/<batch>.json``."""
    latest: dict[str, Path] = {}
    for path in results_dir.glob("*/*/*/*.json"):
        suite = path.relative_to(results_dir).parts[0]
        if suite not in latest or path.parent.name > latest[suite].parent.name:
            latest[suite] = path
    return latest


def result_summary(path: Path) -> tuple[bool, int, int, str]:
    """Success, expectations evaluated and failed, and the run time of a stored validation result."""
    result = json.loads(path.read_text(encoding="utf-8"))
    statistics = result.get("statistics", {})
    run_time = str((result.get("meta", {}).get("run_id") or {}).get("run_time", ""))[:19].replace("T", " ")
    return (
        bool(result.get("success")),
        int(statistics.get("evaluated_expectations", 0)),
        int(statistics.get("unsuccessful_expectations", 0)),
        run_time,
    )


def relative_html(site: Path, folder: str, results_path: Path, results_dir: Path) -> str | None:
    """The page the site builder rendered for a stored result, relative to the site root, if it exists."""
    page = site / folder / results_path.relative_to(results_dir).with_suffix(".html")
    return os.path.relpath(page, site).replace(os.sep, "/") if page.exists() else None
