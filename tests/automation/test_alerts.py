"""The alert sensor: one message per tick for the checks that failed, sent through apprise to loopback servers."""

import json

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.defs.automation.alerts import AlertNotDelivered, check_failure_alert_sensor
from tests.automation.local_servers import http_server, smtp_server
from tests.quality.sample_run import patched_environ


def evaluate(sample, cursor=None):
    with patched_environ(sample.env):
        context = dg.build_sensor_context(instance=sample.instance(), cursor=cursor, definitions=defs())
        return check_failure_alert_sensor(context)


def test_failed_checks_and_flagged_schools_arrive_by_mail_and_webhook(sample, monkeypatch):
    planted = sample.planted()
    inflated = planted.loc[planted["case"] == "vpr_jump_then_fall", ["login", "year"]].drop_duplicates()
    assert len(inflated) == 1
    school = f"{inflated['login'].iloc[0]} ({inflated['year'].iloc[0]})"
    with smtp_server() as smtp, http_server() as web:
        monkeypatch.setenv("ALERT_URLS", f"mailto://127.0.0.1:{smtp.server_address[1]}"
                                         f"?from=monitoring@uo.local&to=analyst@uo.local, "
                                         f"json://127.0.0.1:{web.server_address[1]}/alerts")
        result = evaluate(sample)
        assert len(smtp.messages) == 1 and len(web.requests) == 1
        mail = smtp.messages[0].get_body(preferencelist=("plain",)).get_content()
        path, body = web.requests[0]
        posted = json.loads(body)
    assert path == "/alerts"
    assert "не пройдены проверки" in posted["title"]
    for text in (mail, posted["message"]):
        assert "objectivity_flags" in text and "WARN" in text
        assert school in text
        assert "Data Docs: file://" in text
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
