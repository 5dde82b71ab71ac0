"""Alerts when asset checks fail, blocking or not.

Non-blocking check failures do not fail a run, so a run-failure sensor never sees them. This sensor reads
the latest evaluation of every asset check of the code location from the instance, and sends one message
for all evaluations that failed since its cursor (the event storage id of the newest one it reported):
which checks failed, how severe, the schools they name and the link to the Great Expectations Data Docs.

Where the message goes is configuration: apprise URLs in ALERT_URLS, separated by commas or spaces
(``mailto://…``, ``tgram://…``, ``json://host:port/path``, …), read at each tick. Without URLs the
message is only logged. When no URL accepts the message the tick fails and the cursor stays, so the
alert is retried instead of lost.
"""

import os
import re
from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from pipelines.defs.automation.settings import ALERT_INTERVAL_SECONDS
from pipelines.defs.quality.checks import SCHOOLS_METADATA_KEY

ALERT_URLS_VARIABLE = "ALERT_URLS"
TITLE = "Мониторинг ШНОР/ВПР: не пройдены проверки"


class AlertNotDelivered(Exception):
    """No configured destination accepted the alert."""


@dataclass(frozen=True)
class FailedCheck:
    storage_id: int
    asset: str
    check: str
    severity: str
    blocking: bool
    description: str
    schools: str | None
    docs_url: str | None
    run_id: str

    def line(self) -> str:
        kind = "блокирующая" if self.blocking else "неблокирующая"
        parts = [f"- {self.asset} · {self.check} ({self.severity}, {kind})"]
        if self.description:
            parts.append(f"  {self.description}")
        if self.schools:
            parts.append(f"  ОО: {self.schools}")
        if self.docs_url:
            parts.append(f"  Data Docs: {self.docs_url}")
        parts.append(f"  Запуск: {self.run_id}")
        return "\n".join(parts)


def alert_urls() -> list[str]:
    return [url for url in re.split(r"[,\s]+", os.environ.get(ALERT_URLS_VARIABLE, "")) if url]


def _text(metadata, key: str) -> str | None:
    value = metadata.get(key)
    return None if value is None else str(getattr(value, "value", value))


def failed_checks_since(instance: dg.DagsterInstance, check_keys, after_id: int) -> list[FailedCheck]:
    """Latest evaluations that failed and were recorded after the cursor, oldest first."""
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    failed = []
    for key, record in latest.items():
        if record.id <= after_id or record.status != AssetCheckExecutionRecordStatus.FAILED or record.event is None:
            continue
        evaluation = record.event.dagster_event.event_specific_data
        failed.append(FailedCheck(
            storage_id=record.id,
            asset=key.asset_key.to_user_string(),
            check=key.name,
            severity=evaluation.severity.value,
            blocking=bool(evaluation.blocking),
            description=evaluation.description or "",
            schools=_text(evaluation.metadata, SCHOOLS_METADATA_KEY),
            docs_url=_text(evaluation.metadata, "data docs"),
            run_id=record.run_id,
        ))
    return sorted(failed, key=lambda f: f.storage_id)


def message(failed: list[FailedCheck]) -> str:
    blocking = sum(f.blocking for f in failed)
    head = (f"Не пройдено проверок: {len(failed)} (блокирующих: {blocking}). "
            "Блокирующие останавливают публикацию; неблокирующие требуют решения проверяющего.")
    return "\n\n".join([head, *(f.line() for f in failed)])


def send(title: str, body: str, urls: list[str]) -> None:
    import apprise

    notifier = apprise.Apprise()
    for url in urls:
        notifier.add(url)
    if not notifier.notify(title=title, body=body):
        raise AlertNotDelivered(f"no destination in {ALERT_URLS_VARIABLE} accepted the alert")


@dg.sensor(
    name="check_failure_alert_sensor",
    minimum_interval_seconds=ALERT_INTERVAL_SECONDS,
    # Running by default: failed checks must reach people without anyone switching alerts on.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends one message (apprise, ALERT_URLS) listing asset checks that failed since the last tick.",
)
def check_failure_alert_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    after_id = int(context.cursor or 0)
    check_keys = context.repository_def.asset_graph.asset_check_keys
    failed = failed_checks_since(context.instance, check_keys, after_id)
    if not failed:
        return dg.SensorResult(skip_reason="no failed checks since the last tick")
    body = message(failed)
    urls = alert_urls()
    if urls:
        send(TITLE, body, urls)
        context.log.info(f"alert sent to {len(urls)} destination(s): {len(failed)} failed checks")
    else:
        context.log.warning(f"{ALERT_URLS_VARIABLE} is not set; alert only logged:\n{body}")
    return dg.SensorResult(cursor=str(max(f.storage_id for f in failed)))


@dg.definitions
def alert_defs() -> dg.Definitions:
    return dg.Definitions(sensors=[check_failure_alert_sensor])
