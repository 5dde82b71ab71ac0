"""Automation settings from ``config/automation.yml``, read once when the code location loads.

A schedule's cron is part of its definition, so it cannot come from the environment at run time; it is
configuration kept in the repository beside the other settings.
"""

from pathlib import Path

import yaml

AUTOMATION_CONFIG = Path(__file__).resolve().parents[3] / "config" / "automation.yml"

_settings = yaml.safe_load(AUTOMATION_CONFIG.read_text(encoding="utf-8"))

MONITORING_CRON: str = _settings["monitoring_schedule"]["cron"]
MONITORING_TIMEZONE: str = _settings["monitoring_schedule"]["timezone"]
LANDING_INTERVAL_SECONDS: int = int(_settings["landing_sensor"]["interval_seconds"])
LANDING_SETTLE_SECONDS: int = int(_settings["landing_sensor"]["settle_seconds"])
ALERT_INTERVAL_SECONDS: int = int(_settings["alert_sensor"]["interval_seconds"])
