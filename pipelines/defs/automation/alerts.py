"""Alerts when asset checks fail, blocking or not.

Non-blocking check failures do not fail a run, so a run-failure sensor never sees them. This sensor reads
the latest evaluation of every asset check of the code location from the instance, and sends one message
for all evaluations that failed since its cursor (the event storage id of the newest one it reported):
which checks failed, how severe, the schools they name (login and name), what to do next, and links to
the run and the check in the Dagster UI, to the Great Expectations Data Docs and to the current release.

Where the message goes is configuration: apprise URLs in ALERT_URLS, separated by commas or spaces
(``mailto://…``, ``tgram://…``, ``json://host:port/path``, …), read at each tick. Without URLs the
message is only logged. When a URL does not accept the message the tick fails and the cursor stays, so
the alert is retried instead of lost.
"""

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import dagster as dg

from pipelines.defs.automation.settings import ALERT_INTERVAL_SECONDS
from pipelines.defs.quality.gx_suites import DOCS_METADATA_KEY, SCHOOLS_METADATA_KEY, SUITE_SPECS

ALERT_URLS_VARIABLE = "ALERT_URLS"
TITLE = "Мониторинг ШНОР/ВПР: не пройдены проверки"
SUITE_TITLES = {spec.name: spec.title for spec in SUITE_SPECS}
REVIEWS_FILE = "reviews/reviews.csv"


class AlertNotDelivered(Exception):
    """No configured destination accepted the alert."""


class AlertLinks(dg.ConfigurableResource):
    """Where the links of an alert point: the Dagster UI people open (``DAGSTER_UI_URL``, ``make dev``
    serves http://127.0.0.1:3000) and the publication folder whose current release the alert names."""

    dagster_url: str
    publish_dir: str

    def run(self, run_id: str) -> str:
        return f"{self.dagster_url.rstrip('/')}/runs/{run_id}"

    def check(self, asset: dg.AssetKey, check: str) -> str:
        path = "/".join(quote(part) for part in asset.path)
        return f"{self.dagster_url.rstrip('/')}/assets/{path}?view=checks&checkDetail={quote(check)}"

    def release(self) -> str | None:
        current = Path(self.publish_dir) / "current"
        return current.resolve().as_uri() if current.exists() else None


@dataclass(frozen=True)
class FailedCheck:
    storage_id: int
    asset_key: dg.AssetKey
    check: str
    severity: str
    blocking: bool
    description: str
    schools: tuple[str, ...]
    docs_url: str | None
    run_id: str

    @property
    def asset(self) -> str:
        return self.asset_key.to_user_string()

    @property
    def title(self) -> str:
        return SUITE_TITLES.get(self.check, self.check)

    @property
    def logins(self) -> list[str]:
        return [school.split(" ", 1)[0] for school in self.schools]

    def next_step(self) -> str:
        if self.blocking:
            return (
                "исправьте данные по строкам выше (подробно — в Data Docs) и запустите make run снова; "
                "до тех пор аналитики видят прежний выпуск."
            )
        if self.check in SUITE_TITLES:
            return (
                f"эксперт решает по каждому признаку: «подтверждено» или «снято» в {REVIEWS_FILE} "
                "папки приёма, затем make run."
            )
        return "откройте проверку в Dagster, исправьте причину и запустите make run снова."


def alert_urls() -> list[str]:
    return [url for url in re.split(r"[,\s]+", os.environ.get(ALERT_URLS_VARIABLE, "")) if url]


def _text(metadata, key: str) -> str | None:
    value = metadata.get(key)
    return None if value is None else str(getattr(value, "value", value))


def checks_planned_by(instance: dg.DagsterInstance, run_ids: list[str]) -> set[dg.AssetCheckKey]:
    """The checks the runs planned to evaluate."""
    keys = set()
    for run_id in run_ids:
        planned = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)
        keys.update(
            record.event_log_entry.dagster_event.event_specific_data.asset_check_key for record in planned.records
        )
    return keys


def failed_checks_since(instance: dg.DagsterInstance, check_keys, after_id: int) -> list[FailedCheck]:
    """Latest evaluations that failed and were recorded after the cursor, oldest first."""
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    failed = []
    for key, record in latest.items():
        if record.id <= after_id or record.event is None or record.event.dagster_event is None:
            continue
        evaluation = record.event.dagster_event.event_specific_data
        if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
            continue
        failed.append(
            FailedCheck(
                storage_id=record.id,
                asset_key=key.asset_key,
                check=key.name,
                severity=evaluation.severity.value,
                blocking=bool(evaluation.blocking),
                description=evaluation.description or "",
                schools=tuple((_text(evaluation.metadata, SCHOOLS_METADATA_KEY) or "").splitlines()),
                docs_url=_text(evaluation.metadata, DOCS_METADATA_KEY),
                run_id=record.run_id,
            )
        )
    return sorted(failed, key=lambda f: f.storage_id)


def _link(label: str, url: str) -> str:
    """The address stays visible: the plain-text part of a mail and text-only channels show the text."""
    return f'{label}: <a href="{html.escape(url)}">{html.escape(url)}</a>'


def message(failed: list[FailedCheck], links: AlertLinks) -> str:
    """The alert as HTML; apprise sends it as is where HTML is read and as lines of text elsewhere
    (the plain-text part of a mail, webhooks), one line per paragraph, line break or list item."""
    blocking = sum(f.blocking for f in failed)
    head = [f"<b>Не пройдено проверок: {len(failed)}</b>"]
    if blocking:
        head.append(f"Блокирующих: {blocking} — публикация этого запуска остановлена, аналитики видят прежний выпуск.")
    if len(failed) > blocking:
        head.append(f"Неблокирующих: {len(failed) - blocking} — нужно решение проверяющего.")
    parts = ["<p>" + "<br/>".join(head) + "</p>"]
    for number, check in enumerate(failed, 1):
        kind = "ошибка, блокирующая" if check.blocking else "предупреждение, неблокирующая"
        parts.append(f"<h3>{number}. {html.escape(check.title)} ({kind})</h3>")
        parts.append(
            f"<p>Проверка: {html.escape(check.check)} на {html.escape(check.asset)}<br/>"
            f"Что не так: {html.escape(check.description)}</p>"
        )
        if check.schools:
            items = "".join(f"<li>{html.escape(school)}</li>" for school in check.schools)
            parts.append(f"<p>Школы ({len(check.schools)}):</p><ul>{items}</ul>")
        parts.append(f"<p>Что делать: {html.escape(check.next_step())}</p>")
        refs = [
            _link("Запуск в Dagster", links.run(check.run_id)),
            _link("Проверка в Dagster", links.check(check.asset_key, check.check)),
        ]
        if check.docs_url:
            refs.append(_link("Data Docs", check.docs_url))
        parts.append("<p>" + "<br/>".join(refs) + "</p>")
    release = links.release()
    parts.append(
        "<p>"
        + (_link("Текущий выпуск для аналитиков", release) if release else "Выпуска для аналитиков ещё нет.")
        + "</p>"
    )
    return "\n".join(parts)


def plain_text(body: str) -> str:
    """The lines a text-only destination shows, as apprise makes them for the plain part of a mail."""
    from apprise import NotifyFormat
    from apprise.conversion import convert_between

    return convert_between(NotifyFormat.HTML, NotifyFormat.TEXT, body)


def send(title: str, body: str, urls: list[str]) -> None:
    """HTML where the destination reads it by default (mail: an HTML part and a plain-text part; Telegram),
    the same lines as plain text elsewhere (webhooks)."""
    import apprise

    delivered = []
    for url in urls:
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            delivered.append(False)
            continue
        html_first = plugin.resolve_format(None) == apprise.NotifyFormat.HTML
        delivered.append(
            bool(
                plugin.notify(
                    title=title,
                    body=body if html_first else plain_text(body),
                    body_format=apprise.NotifyFormat.HTML if html_first else apprise.NotifyFormat.TEXT,
                )
            )
        )
    if not all(delivered):
        raise AlertNotDelivered(
            f"{delivered.count(False)} destination(s) in {ALERT_URLS_VARIABLE} did not accept the alert"
        )


@dg.sensor(
    name="check_failure_alert_sensor",
    minimum_interval_seconds=ALERT_INTERVAL_SECONDS,
    # Running by default: failed checks must reach people without anyone switching alerts on.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends one message (apprise, ALERT_URLS) listing asset checks that failed since the last tick.",
)
def check_failure_alert_sensor(context: dg.SensorEvaluationContext, alert_links: AlertLinks) -> dg.SensorResult:
    after_id = int(context.cursor or 0)
    check_keys = context.repository_def.asset_graph.asset_check_keys
    failed = failed_checks_since(context.instance, check_keys, after_id)
    if not failed:
        return dg.SensorResult(skip_reason="no failed checks since the last tick")
    body = message(failed, alert_links)
    urls = alert_urls()
    if urls:
        send(TITLE, body, urls)
        context.log.info(f"alert sent to {len(urls)} destination(s): {len(failed)} failed checks")
    else:
        context.log.warning(f"{ALERT_URLS_VARIABLE} is not set; alert only logged:\n{plain_text(body)}")
    return dg.SensorResult(cursor=str(max(f.storage_id for f in failed)))


@dg.definitions
def alert_defs() -> dg.Definitions:
    return dg.Definitions(
        sensors=[check_failure_alert_sensor],
        resources={
            "alert_links": AlertLinks(dagster_url=dg.EnvVar("DAGSTER_UI_URL"), publish_dir=dg.EnvVar("PUBLISH_DIR"))
        },
    )
