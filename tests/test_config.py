"""config.toml is checked at start-up; a bad key stops with a message naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.configerror import ConfigError
from tests.conftest import REPO


def write(tmp_path: Path, replace: tuple[str, str] | None = None, append: str = "") -> Path:
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    if replace is not None:
        assert replace[0] in text, replace[0]
        text = text.replace(replace[0], replace[1], 1)
    path = tmp_path / "config.toml"
    path.write_text(text + append, encoding="utf-8")
    return path


def test_the_sample_config_loads(tmp_path: Path):
    config = load_config(write(tmp_path), env={})
    assert config.commune.name == "Xã Hà Bắc"
    assert config.commune.code == "HB"
    assert list(config.units) == [
        "van_phong",
        "kinh_te",
        "vhxh",
        "phvhcc",
        "cong_an",
        "quan_su",
        "y_te",
    ]
    assert config.categories["dat_dai"].unit == "kinh_te"
    assert len(config.categories) == 15
    assert config.storage.database_url == f"sqlite:///{tmp_path / 'data' / 'pakn.db'}"
    assert config.secrets.telegram_token is None


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (('unit = "kinh_te"', 'unit = "kinh_tee"'), "categories[0].unit", "unknown unit id"),
        (("max_text_length = 2000", "max_text_length = -5"), "limits.max_text_length", "positive"),
        (
            ("max_text_length = 2000", 'max_text_length = "nhiều"'),
            "limits.max_text_length",
            "whole number",
        ),
        (('office_time = "07:30"', 'office_time = "7h30"'), "reminders.office_time", "07:30"),
        (('code = "HB"', 'code = "hb-1"'), "commune.code", "capital letters"),
        (
            ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi_City"'),
            "commune.timezone",
            "unknown time zone",
        ),
        (
            ('days = 10\nunit = "working"', 'days = 10\nunit = "weekly"'),
            "deadlines.kinds.phan_anh_kien_nghi.answer.unit",
            "",
        ),
        (
            ('complaint_unit = "van_phong"', 'complaint_unit = "ubnd"'),
            "deadlines.complaint_unit",
            "not a unit id",
        ),
        (
            ("extra_days_off = []", 'extra_days_off = ["2026-02-30"]'),
            "holidays.extra_days_off[0]",
            "",
        ),
        (
            ("min_confidence = 0.3", "min_confidence = 3"),
            "routing.min_confidence",
            "between 0 and 1",
        ),
        (
            ("clear_lead_threshold = 0.46", "clear_lead_threshold = 0.3"),
            "faq.clear_lead_threshold",
            "between faq.suggest_threshold and faq.answer_threshold",
        ),
    ],
)
def test_a_bad_value_names_the_key(tmp_path: Path, change, key, problem):
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, change), env={})
    assert raised.value.key == key
    assert problem in raised.value.problem


def test_an_unknown_key_is_a_typo(tmp_path: Path):
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, ("hotline =", 'hotlien = "1"\nhotline =')), env={})
    assert raised.value.key == "commune.hotlien"
    assert "not a known setting" in raised.value.problem


def test_secrets_come_from_the_environment_and_dotenv(tmp_path: Path, monkeypatch):
    path = write(tmp_path)
    (tmp_path / ".env").write_text("PAKN_TELEGRAM_TOKEN=123:from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv("PAKN_DATABASE_URL", "postgresql://u:secret@db/pakn")
    monkeypatch.delenv("PAKN_TELEGRAM_TOKEN", raising=False)
    config = load_config(path)
    assert config.secrets.telegram_token == "123:from-dotenv"
    assert config.storage.database_url == "postgresql://u:secret@db/pakn"


def test_a_secret_in_config_toml_is_refused(tmp_path: Path):
    path = write(tmp_path, append='\n[secrets]\ntelegram_token = "123:abc"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path, env={})
    assert raised.value.key == "secrets"


def test_cli_reports_a_config_error_and_exits(tmp_path: Path, capsys):
    from bot.cli import main

    path = write(tmp_path, ('unit = "kinh_te"', 'unit = "kinh_tee"'))
    assert main(["--config", str(path), "migrate"]) == 2
    assert "categories[0].unit: unknown unit id 'kinh_tee'" in capsys.readouterr().err
