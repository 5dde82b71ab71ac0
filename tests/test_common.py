"""The shared helpers (pipelines/common.py) and the descriptions dbt tests get as Dagster checks."""

import hashlib

import pytest

from pipelines.common import decode_utf8_or_cp1251, parse_datetime, sha256_of, sql_identifier, sql_literal


def test_a_file_hash_is_the_sha256_of_its_bytes(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * (3 << 20))  # more than one block
    assert sha256_of(path) == hashlib.sha256(b"x" * (3 << 20)).hexdigest()


def test_quotes_are_doubled_in_literals_and_identifiers():
    assert sql_literal("O'Brien") == "'O''Brien'"
    assert sql_identifier('a"b') == '"a""b"'


def test_text_is_utf8_with_or_without_bom_else_cp1251():
    assert decode_utf8_or_cp1251("Логин".encode()) == "Логин"
    assert decode_utf8_or_cp1251(b"\xef\xbb\xbf" + "Логин".encode()) == "Логин"
    assert decode_utf8_or_cp1251("Логин".encode("cp1251")) == "Логин"
    with pytest.raises(UnicodeDecodeError):  # a BOM says UTF-8: no fallback after it
        decode_utf8_or_cp1251(b"\xef\xbb\xbf" + "Логин".encode("cp1251"))
    with pytest.raises(UnicodeDecodeError):  # 0x98 is undefined in cp1251
        decode_utf8_or_cp1251(b"\x98\xff")


def test_only_the_documented_date_forms_are_read():
    formats = ("%Y-%m-%d", "%d.%m.%Y")
    assert parse_datetime("05.03.2024", formats).date().isoformat() == "2024-03-05"
    assert parse_datetime("2024-03-05", formats).date().isoformat() == "2024-03-05"
    assert parse_datetime("2024-13-01", formats) is None
    assert parse_datetime("March 5 2024", formats) is None


def test_a_generic_dbt_test_is_described_in_russian_with_its_consequence():
    from pipelines.defs.dbt.translator import check_description

    not_null = {
        "name": "not_null_x_year",
        "column_name": "year",
        "config": {"severity": "ERROR"},
        "test_metadata": {"name": "not_null", "kwargs": {"column_name": "year"}},
    }
    related = {
        "name": "relationships_x",
        "column_name": "indicator_code",
        "config": {"severity": "warn"},
        "test_metadata": {
            "name": "relationships",
            "kwargs": {"to": "ref('program_targets')", "field": "indicator_code"},
        },
    }
    own = {"name": "assert_x", "description": "Своё описание.", "config": {}}
    assert check_description(not_null) == (
        "В столбце year нет пустых значений. (ошибка: следующие шаги и публикация не выполняются)"
    )
    assert check_description(related) == (
        "Каждое значение indicator_code есть в program_targets.indicator_code. (предупреждение)"
    )
    assert check_description(own).startswith("Своё описание.")


def test_the_column_rules_of_a_model_are_described_column_by_column():
    from pipelines.defs.dbt.translator import check_description

    rules = {
        "name": "x_value_rules",
        "config": {"severity": "warn"},
        "test_metadata": {
            "name": "column_rules",
            "kwargs": {
                "rules": {
                    "year": {"not_null": True},
                    "level": {"accepted_values": ["низкий", "высокий"]},
                    "share_pct": {"min_value": 0, "max_value": 100},
                    "se": {"min_value": 0, "inclusive": False},
                }
            },
        },
    }
    assert check_description(rules) == (
        "Значения столбцов: year — без пустых значений; level — одно из: низкий, высокий; "
        "share_pct — не меньше 0, не больше 100; se — больше 0 (пустые допускаются, где не сказано "
        "«без пустых значений»). (предупреждение)"
    )
