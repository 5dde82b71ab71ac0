"""The alert sensor: one message per tick for the checks that failed, sent through apprise to loopback servers."""

import json
from html.parser import HTMLParser

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.defs.automation.alerts import AlertLinks, AlertNotDelivered, check_failure_alert_sensor
from tests.automation.local_servers import http_server, smtp_server
from tests.quality.sample_run import DAGSTER_UI_URL, patched_environ


def evaluate(sample, cursor=None):
    with patched_environ(sample.env):
        links = AlertLinks(dagster_url=DAGSTER_UI_URL, publish_dir=str(sample.publish_dir))
        context = dg.build_sensor_context(
            instance=sample.instance(), cursor=cursor, definitions=defs(), resources={"alert_links": links}
        )
        return check_failure_alert_sensor(context)


class Elements(HTMLParser):
    """The HTML part as (tag, text) of its headings, paragraphs and list items, and its links."""

    def __init__(self):
        super().__init__()
        self.blocks, self.links, self._open = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("h3", "p", "li"):
            self._open = [tag, ""]
            self.blocks.append(self._open)
        elif tag == "a":
            self.links.append(dict(attrs)["href"])
        elif tag == "br" and self._open:
            self._open[1] += "\n"

    def handle_data(self, data):
        if self._open:
            self._open[1] += data


def parse_html(text: str) -> Elements:
    elements = Elements()
    elements.feed(text)
    return elements


def test_failed_checks_and_flagged_schools_arrive_by_mail_and_webhook(sample, monkeypatch):
    planted = sample.planted()
    inflated = planted.loc[planted["case"] == "vpr_jump_then_fall", ["login", "year"]].drop_duplicates()
    assert len(inflated) == 1
    login, year = inflated["login"].iloc[0], inflated["year"].iloc[0]
    with smtp_server() as smtp, http_server() as web:
        monkeypatch.setenv(
            "ALERT_URLS",
            f"mailto://127.0.0.1:{smtp.server_address[1]}"
            f"?from=monitoring@uo.local&to=analyst@uo.local, "
            f"json://127.0.0.1:{web.server_address[1]}/alerts",
        )
        result = evaluate(sample)
        assert len(smtp.messages) == 1 and len(web.requests) == 1
        mail = smtp.messages[0]
        path, body = web.requests[0]
        posted = json.loads(body)
    assert path == "/alerts"
    assert posted["title"] == mail["Subject"] == "Мониторинг ШНОР/ВПР: не пройдены проверки"

    # A real multipart/alternative mail: a plain-text part with its lines, and an HTML part.
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    lines = mail.get_body(preferencelist=("plain",)).get_content().splitlines()
    assert lines == posted["message"].splitlines()  # a webhook gets the same lines
    assert lines[0].startswith("Не пройдено проверок: ")
    failed_count = int(lines[0].split(": ")[1])
    assert lines[1] == f"Неблокирующих: {failed_count} — нужно решение проверяющего."  # the sample blocks nothing
    assert lines[2] == ""
    headings = [n for n, line in enumerate(lines) if line.endswith("(предупреждение, неблокирующая)")]
    objectivity = next(n for n in headings if "Признаки необъективности ВПР" in lines[n])
    block = [line for line in lines[objectivity : next((n for n in headings if n > objectivity), len(lines))] if line]
    assert block[1] == "Проверка: objectivity_flags на objectivity/mart_objectivity_flags"
    assert block[2].startswith("Что не так: Не выполнено ожиданий: ")
    schools_at = next(n for n, line in enumerate(block) if line.startswith("Школы ("))
    schools = [line for line in block[schools_at + 1 :] if line.startswith("- ")]
    assert any(line.startswith(f"- {login} — ") and line.endswith(f" ({year})") for line in schools)
    steps = [line for line in block if line.startswith("Что делать: ")]
    assert len(steps) == 1 and "reviews/reviews.csv" in steps[0]
    links = {
        line.split(": ", 1)[0]: line.split(": ", 1)[1]
        for line in block
        if line.startswith(("Запуск в Dagster: ", "Проверка в Dagster: ", "Data Docs: "))
    }
    run_id = links["Запуск в Dagster"].removeprefix(f"{DAGSTER_UI_URL}/runs/")
    assert sample.instance().get_run_by_id(run_id) is not None
    assert links["Проверка в Dagster"] == (
        f"{DAGSTER_UI_URL}/assets/objectivity/mart_objectivity_flags?view=checks&checkDetail=objectivity_flags"
    )
    assert links["Data Docs"].startswith("file://")
    release = (sample.publish_dir / "current").resolve().as_uri()
    assert lines[-1] == f"Текущий выпуск для аналитиков: {release}"

    # The HTML part: one heading per failed check, the schools as list items, links as anchors.
    elements = parse_html(mail.get_body(preferencelist=("html",)).get_content())
    h3 = [text for tag, text in elements.blocks if tag == "h3"]
    assert len(h3) == len(headings) == failed_count
    assert any(text.startswith(f"{login} — ") for tag, text in elements.blocks if tag == "li")
    assert links["Проверка в Dagster"] in elements.links and release in elements.links
    assert int(result.cursor) > 0

    with smtp_server() as smtp, http_server() as web:
        monkeypatch.setenv("ALERT_URLS", f"json://127.0.0.1:{web.server_address[1]}/alerts")
        again = evaluate(sample, cursor=result.cursor)
        assert web.requests == []  # nothing new since the cursor: no repeated alert
    assert again.cursor is None and again.skip_reason


def test_without_urls_the_alert_is_only_logged(sample, monkeypatch):
    monkeypatch.delenv("ALERT_URLS", raising=False)
    result = evaluate(sample)
    assert int(result.cursor) > 0 and not result.run_requests


def test_an_undelivered_alert_fails_the_tick_and_keeps_the_cursor(sample, monkeypatch):
    with http_server() as web:
        closed_port = web.server_address[1]
    monkeypatch.setenv("ALERT_URLS", f"json://127.0.0.1:{closed_port}/alerts")
    with pytest.raises(AlertNotDelivered):
        evaluate(sample)
