"""How dbt nodes appear in Dagster: dagster-dbt's defaults, and check descriptions people can read.

Groups come from dbt itself (``+meta: {dagster: {group: …}}`` per folder in ``dbt_project.yml``), asset keys
are dagster-dbt's ``[schema, name]``. dagster-dbt reads a check's description from the test's
``meta.description`` only; here the test's own ``description:`` is used, and a test without one (most generic
tests) gets a sentence in Russian written from its kind and arguments, with its severity.
"""

import re
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

_REF = re.compile(r"""(?:ref|source)\(\s*['"]([^'"]+)['"](?:\s*,\s*['"]([^'"]+)['"])?""")


def _relation(argument: str) -> str:
    """``ref('program_targets')`` → ``program_targets``; ``source('raw', 'schools')`` → ``raw.schools``."""
    match = _REF.search(argument or "")
    if match is None:
        return argument
    return ".".join(part for part in match.groups() if part)


def _generated(test: Mapping[str, Any]) -> str:
    metadata = test.get("test_metadata") or {}
    kind, kwargs = metadata.get("name"), metadata.get("kwargs") or {}
    column = test.get("column_name") or kwargs.get("column_name")
    if kind == "not_null":
        return f"В столбце {column} нет пустых значений."
    if kind == "unique":
        return f"Значения столбца {column} не повторяются."
    if kind == "accepted_values":
        return f"Столбец {column} принимает только значения: {', '.join(map(str, kwargs.get('values', [])))}."
    if kind == "relationships":
        return f"Каждое значение {column} есть в {_relation(kwargs.get('to', ''))}.{kwargs.get('field')}."
    if kind == "unique_combination_of_columns":
        return f"Нет двух строк с одинаковыми {', '.join(kwargs.get('combination_of_columns', []))}."
    if kind == "expression_is_true":
        expression = kwargs.get("expression", "")
        return f"В каждой строке верно: {f'{column} {expression}' if column else expression}."
    if kind == "accepted_range":
        bounds = [
            f"не меньше {kwargs['min_value']}" if kwargs.get("min_value") is not None else "",
            f"не больше {kwargs['max_value']}" if kwargs.get("max_value") is not None else "",
        ]
        return f"Значения {column} {' и '.join(b for b in bounds if b)} (пустые допускаются)."
    if kind == "column_rules":
        return (
            "Значения столбцов: "
            + "; ".join(f"{name} — {_column_rule(rule)}" for name, rule in (kwargs.get("rules") or {}).items())
            + " (пустые допускаются, где не сказано «без пустых значений»)."
        )
    if kind == "valid_year_ranges":
        keys = ", ".join(kwargs.get("key_columns", []))
        same = f"строк с одинаковыми {keys}" if keys else "строк"
        return (
            "Начало периода действия каждой строки не позже его конца (пустой конец — бессрочно), "
            f"и периоды {same} не пересекаются: на год действует одна строка."
        )
    return f"dbt-тест {test['name']}."


def _column_rule(rule: Mapping[str, Any]) -> str:
    """One column's rules of a ``column_rules`` test, in Russian."""
    parts = ["без пустых значений"] if rule.get("not_null") else []
    if rule.get("accepted_values") is not None:
        parts.append(f"одно из: {', '.join(map(str, rule['accepted_values']))}")
    strict = rule.get("inclusive", True) is False
    if rule.get("min_value") is not None:
        parts.append(f"{'больше' if strict else 'не меньше'} {rule['min_value']}")
    if rule.get("max_value") is not None:
        parts.append(f"{'меньше' if strict else 'не больше'} {rule['max_value']}")
    return ", ".join(parts)


def check_description(test: Mapping[str, Any]) -> str:
    """What the check asserts, in Russian, and what its failure does."""
    text = (test.get("description") or "").strip() or _generated(test)
    severity = (test.get("config", {}).get("severity") or "error").lower()
    consequence = "ошибка: следующие шаги и публикация не выполняются" if severity == "error" else "предупреждение"
    return f"{text} ({consequence})"


class MonitoringDbtTranslator(DagsterDbtTranslator):
    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=check_description(manifest["nodes"][unique_id]),
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=spec.blocking,
        )
