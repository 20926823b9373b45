"""Loading and checking ``config.toml`` plus secrets from the environment.

Every key is read here and nowhere else. A wrong or unknown key stops start-up with a
``ConfigError`` that names the key, so a typo in the commune's file never silently falls back
to a default. Secrets come only from environment variables or a ``.env`` file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.configerror import ConfigError
from bot.rules.deadlines import DeadlinePolicy
from bot.rules.workdays import WorkCalendar
from faq.matcher import (
    DEFAULT_ANSWER_MARGIN,
    DEFAULT_ANSWER_THRESHOLD,
    DEFAULT_CLEAR_LEAD_MARGIN,
    DEFAULT_CLEAR_LEAD_THRESHOLD,
    DEFAULT_SUGGEST_THRESHOLD,
)

CASE_KINDS: tuple[str, ...] = ("phan_anh_kien_nghi", "khieu_nai", "to_cao")
ROLES: tuple[str, ...] = ("officer", "head", "leader", "admin")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Commune:
    id: str
    code: str
    name: str
    authority: str
    province: str
    address: str
    phone: str
    hotline: str
    email: str
    office_hours: str
    reception_schedule: str
    one_stop_desk: str
    public_service_portal: str
    timezone: ZoneInfo
    remote_area: bool
    data_retention: str
    villages: tuple[str, ...]


@dataclass(frozen=True)
class Limits:
    max_text_length: int
    min_text_length: int
    max_photos_per_case: int
    max_photo_bytes: int
    max_cases_per_person_per_day: int
    draft_ttl_hours: int


@dataclass(frozen=True)
class StorageConfig:
    database_url: str
    attachments_dir: Path
    data_dir: Path


@dataclass(frozen=True)
class Unit:
    id: str
    name: str


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    unit: str


@dataclass(frozen=True)
class Reminders:
    office_time: time
    citizen_quiet_start: time
    citizen_quiet_end: time
    before_due_working_days: int
    leader_digest_after_overdue_working_days: int
    escalate_unopened_working_days: int


@dataclass(frozen=True)
class RolesConfig:
    reveal_whistleblower: tuple[str, ...]
    head_approves_extensions: bool


@dataclass(frozen=True)
class RoutingConfig:
    min_confidence: float
    extra_keyword_files: tuple[Path, ...]


@dataclass(frozen=True)
class FaqConfig:
    answer_threshold: float
    answer_margin: float
    suggest_threshold: float
    clear_lead_threshold: float
    clear_lead_margin: float
    extra_corpus_dirs: tuple[Path, ...]


@dataclass(frozen=True)
class ReportsConfig:
    weekly_cron: str
    # Reporting periods start on this day of the month before (NĐ 09/2019/NĐ-CP Điều 12: 15);
    # 1 means calendar months.
    cutoff_day: int = 15


@dataclass(frozen=True)
class TelegramConfig:
    base_url: str
    base_file_url: str
    poll_timeout: int
    rate_limiter: bool = True
    send_process: bool = True


@dataclass(frozen=True)
class ZaloConfig:
    base_url: str
    poll_timeout: int


@dataclass(frozen=True)
class WebConfig:
    public_base_url: str
    listen_host: str
    listen_port: int
    attachment_link_hours: int
    max_body_bytes: int


@dataclass(frozen=True)
class OutboxConfig:
    max_attempts: int
    overall_per_second: float
    per_chat_per_second: float


@dataclass(frozen=True)
class Secrets:
    telegram_token: str | None
    telegram_webhook_secret: str | None
    zalo_token: str | None
    zalo_webhook_secret: str | None
    # Signs the expiring links to stored files (bot/links.py); a random one kept in the
    # data directory is used when unset.
    link_secret: str | None = None


@dataclass(frozen=True)
class AppConfig:
    path: Path
    commune: Commune
    limits: Limits
    storage: StorageConfig
    units: Mapping[str, Unit]
    categories: Mapping[str, Category]
    deadlines: DeadlinePolicy
    calendar: WorkCalendar
    reminders: Reminders
    roles: RolesConfig
    routing: RoutingConfig
    faq: FaqConfig
    reports: ReportsConfig
    telegram: TelegramConfig
    zalo: ZaloConfig
    web: WebConfig
    outbox: OutboxConfig
    secrets: Secrets

    def unit_name(self, unit_id: str) -> str:
        unit = self.units.get(unit_id)
        return unit.name if unit else unit_id

    def category_name(self, category_id: str) -> str:
        category = self.categories.get(category_id)
        return category.name if category else category_id


class _Table:
    """A TOML table being read: remembers its dotted path and which keys were used."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def raw(self, name: str, default: object = ...) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is ...:
                raise ConfigError(self.key(name), "is missing")
            return default
        return self.data[name]

    def typed(self, name: str, kind: type[_T], default: object = ...) -> _T:
        value = self.raw(name, default)
        # bool is an int in Python; never accept it where a number is wanted.
        if kind in (int, float) and isinstance(value, bool):
            raise ConfigError(self.key(name), f"must be a number, not {value!r}")
        if kind is float and isinstance(value, int):
            return float(value)  # type: ignore[return-value]
        if not isinstance(value, kind):
            raise ConfigError(self.key(name), f"must be {_type_word(kind)}, not {value!r}")
        return value

    def text(self, name: str, default: object = ..., *, allow_empty: bool = False) -> str:
        value = self.typed(name, str, default)
        if not allow_empty and not value.strip():
            raise ConfigError(self.key(name), "must not be empty")
        return value.strip()

    def positive_int(self, name: str, default: object = ..., *, allow_zero: bool = False) -> int:
        value = self.typed(name, int, default)
        if value < 0 or (value == 0 and not allow_zero):
            raise ConfigError(self.key(name), f"must be a positive whole number, not {value}")
        return value

    def fraction(self, name: str, default: object = ...) -> float:
        value = self.typed(name, float, default)
        if not 0.0 <= value <= 1.0:
            raise ConfigError(self.key(name), f"must be between 0 and 1, not {value}")
        return value

    def clock_time(self, name: str, default: object = ...) -> time:
        value = self.text(name, default)
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ConfigError(self.key(name), f'must be a time like "07:30", not {value!r}')
        return time(int(match[1]), int(match[2]))

    def str_list(self, name: str, default: object = ...) -> tuple[str, ...]:
        value = self.typed(name, list, default)
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(f"{self.key(name)}[{index}]", "must be a non-empty text")
        return tuple(item.strip() for item in value)

    def table(self, name: str, *, required: bool = True) -> _Table:
        value = self.raw(name, ... if required else {})
        if not isinstance(value, Mapping):
            raise ConfigError(self.key(name), "must be a table")
        return _Table(value, self.key(name))

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(self.key(unknown[0]), "is not a known setting (typo?)")


def _type_word(kind: type) -> str:
    return {str: "a text", int: "a whole number", float: "a number", bool: "true or false"}.get(
        kind, "a list" if kind is list else kind.__name__
    )


def _read_commune(table: _Table) -> Commune:
    code = table.text("code")
    if not re.fullmatch(r"[A-Z]{1,5}", code):
        raise ConfigError(table.key("code"), f"must be 1–5 capital letters, not {code!r}")
    commune_id = table.text("id")
    if not _ID.match(commune_id):
        raise ConfigError(table.key("id"), f"must be a snake_case id, not {commune_id!r}")
    tz_name = table.text("timezone", "Asia/Ho_Chi_Minh")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(table.key("timezone"), f"unknown time zone {tz_name!r}") from exc
    villages = table.str_list("villages")
    if not villages:
        raise ConfigError(table.key("villages"), "must list at least one thôn or tổ dân phố")
    commune = Commune(
        id=commune_id,
        code=code,
        name=table.text("name"),
        authority=table.text("authority"),
        province=table.text("province", "", allow_empty=True),
        address=table.text("address"),
        phone=table.text("phone"),
        hotline=table.text("hotline"),
        email=table.text("email", "", allow_empty=True),
        office_hours=table.text("office_hours"),
        reception_schedule=table.text("reception_schedule"),
        one_stop_desk=table.text("one_stop_desk"),
        public_service_portal=table.text("public_service_portal", "https://dichvucong.gov.vn"),
        timezone=tz,
        remote_area=table.typed("remote_area", bool, False),
        data_retention=table.text("data_retention"),
        villages=villages,
    )
    table.finish()
    return commune


def _read_limits(table: _Table) -> Limits:
    limits = Limits(
        max_text_length=table.positive_int("max_text_length", 2000),
        min_text_length=table.positive_int("min_text_length", 10),
        max_photos_per_case=table.positive_int("max_photos_per_case", 5, allow_zero=True),
        max_photo_bytes=table.positive_int("max_photo_bytes", 10_000_000),
        max_cases_per_person_per_day=table.positive_int("max_cases_per_person_per_day", 5),
        draft_ttl_hours=table.positive_int("draft_ttl_hours", 24),
    )
    if limits.min_text_length >= limits.max_text_length:
        raise ConfigError(table.key("min_text_length"), "must be smaller than max_text_length")
    table.finish()
    return limits


def _id_tables(root: _Table, name: str) -> Iterator[tuple[str, _Table]]:
    """Each table of the array ``name`` with its checked, unique snake_case ``id``; the
    caller reads the other keys and then calls ``finish``."""
    seen: set[str] = set()
    for index, item in enumerate(root.typed(name, list)):
        if not isinstance(item, Mapping):
            raise ConfigError(f"{name}[{index}]", "must be a table")
        table = _Table(item, f"{name}[{index}]")
        item_id = table.text("id")
        if not _ID.match(item_id):
            raise ConfigError(table.key("id"), f"must be a snake_case id, not {item_id!r}")
        if item_id in seen:
            raise ConfigError(table.key("id"), f"duplicate id {item_id!r}")
        seen.add(item_id)
        yield item_id, table


def _read_units(root: _Table) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for unit_id, table in _id_tables(root, "units"):
        units[unit_id] = Unit(id=unit_id, name=table.text("name"))
        table.finish()
    if not units:
        raise ConfigError("units", "must list at least one unit")
    return units


def _read_categories(root: _Table, units: Mapping[str, Unit]) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for category_id, table in _id_tables(root, "categories"):
        unit = table.text("unit")
        if unit not in units:
            raise ConfigError(table.key("unit"), f"unknown unit id {unit!r}")
        categories[category_id] = Category(id=category_id, name=table.text("name"), unit=unit)
        table.finish()
    if "khac" not in categories:
        raise ConfigError("categories", "must contain the fallback category 'khac'")
    return categories


def _read_storage(table: _Table, base: Path, env: Mapping[str, str]) -> StorageConfig:
    default_db = Path(table.text("default_database", "data/pakn.db"))
    attachments = Path(table.text("attachments_dir", "data/attachments"))
    table.finish()
    db_path = default_db if default_db.is_absolute() else base / default_db
    url = env.get("PAKN_DATABASE_URL") or f"sqlite:///{db_path}"
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        raise ConfigError("PAKN_DATABASE_URL", "must start with sqlite:// or postgresql://")
    attachments_dir = attachments if attachments.is_absolute() else base / attachments
    return StorageConfig(database_url=url, attachments_dir=attachments_dir, data_dir=db_path.parent)


def _read_reminders(table: _Table) -> Reminders:
    reminders = Reminders(
        office_time=table.clock_time("office_time", "07:30"),
        citizen_quiet_start=table.clock_time("citizen_quiet_start", "21:00"),
        citizen_quiet_end=table.clock_time("citizen_quiet_end", "07:00"),
        before_due_working_days=table.positive_int("before_due_working_days", 2),
        leader_digest_after_overdue_working_days=table.positive_int(
            "leader_digest_after_overdue_working_days", 3
        ),
        escalate_unopened_working_days=table.positive_int("escalate_unopened_working_days", 2),
    )
    table.finish()
    return reminders


def _read_roles(table: _Table) -> RolesConfig:
    reveal = table.str_list("reveal_whistleblower", ["leader"])
    for index, role in enumerate(reveal):
        if role not in ROLES:
            raise ConfigError(
                f"{table.key('reveal_whistleblower')}[{index}]", f"unknown role {role!r}"
            )
    roles = RolesConfig(
        reveal_whistleblower=reveal,
        head_approves_extensions=table.typed("head_approves_extensions", bool, False),
    )
    table.finish()
    return roles


def _paths(table: _Table, name: str, base: Path) -> tuple[Path, ...]:
    return tuple(p if p.is_absolute() else base / p for p in map(Path, table.str_list(name, [])))


def _read_url(table: _Table, name: str, default: str, *, allow_empty: bool = False) -> str:
    value = table.text(name, default, allow_empty=allow_empty)
    if value and not re.match(r"^https?://[^\s]+$", value):
        raise ConfigError(table.key(name), f"must be an http(s) URL, not {value!r}")
    return value


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> AppConfig:
    """Read and check the configuration. ``env`` defaults to ``os.environ`` plus ``.env``."""
    config_path = Path(path or os.environ.get("PAKN_CONFIG", "config.toml")).resolve()
    if not config_path.is_file():
        raise ConfigError(str(config_path), "configuration file not found")
    base = config_path.parent
    if env is None:
        dotenv_file = base / ".env"
        file_env = {k: v for k, v in dotenv_values(dotenv_file).items() if v is not None}
        env = {**file_env, **os.environ}
    try:
        with config_path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(config_path), f"not valid TOML: {exc}") from exc

    root = _Table(data, "")
    commune = _read_commune(root.table("commune"))
    limits = _read_limits(root.table("limits", required=False))
    storage = _read_storage(root.table("storage", required=False), base, env)
    units = _read_units(root)
    categories = _read_categories(root, units)
    deadlines = DeadlinePolicy.from_config(
        root.table("deadlines").data,
        categories=categories.keys(),
        units=units.keys(),
        remote_area=commune.remote_area,
    )
    calendar = WorkCalendar.from_config(root.table("holidays", required=False).data)
    reminders = _read_reminders(root.table("reminders", required=False))
    roles = _read_roles(root.table("roles", required=False))

    routing_table = root.table("routing", required=False)
    routing = RoutingConfig(
        min_confidence=routing_table.fraction("min_confidence", 0.3),
        extra_keyword_files=_paths(routing_table, "extra_keyword_files", base),
    )
    routing_table.finish()

    faq_table = root.table("faq", required=False)
    faq = FaqConfig(
        answer_threshold=faq_table.fraction("answer_threshold", DEFAULT_ANSWER_THRESHOLD),
        answer_margin=faq_table.fraction("answer_margin", DEFAULT_ANSWER_MARGIN),
        suggest_threshold=faq_table.fraction("suggest_threshold", DEFAULT_SUGGEST_THRESHOLD),
        clear_lead_threshold=faq_table.fraction(
            "clear_lead_threshold", DEFAULT_CLEAR_LEAD_THRESHOLD
        ),
        clear_lead_margin=faq_table.fraction("clear_lead_margin", DEFAULT_CLEAR_LEAD_MARGIN),
        extra_corpus_dirs=_paths(faq_table, "extra_corpus_dirs", base),
    )
    if faq.suggest_threshold > faq.answer_threshold:
        raise ConfigError("faq.suggest_threshold", "must not be above faq.answer_threshold")
    if not faq.suggest_threshold <= faq.clear_lead_threshold <= faq.answer_threshold:
        raise ConfigError(
            "faq.clear_lead_threshold",
            "must be between faq.suggest_threshold and faq.answer_threshold",
        )
    faq_table.finish()

    reports_table = root.table("reports", required=False)
    reports = ReportsConfig(
        weekly_cron=reports_table.text("weekly_cron", "mon 07:30"),
        cutoff_day=reports_table.positive_int("cutoff_day", 15),
    )
    if not re.fullmatch(r"(mon|tue|wed|thu|fri|sat|sun) \d{1,2}:\d{2}", reports.weekly_cron):
        raise ConfigError("reports.weekly_cron", 'must look like "mon 07:30"')
    if reports.cutoff_day > 28:
        raise ConfigError("reports.cutoff_day", f"must be 1–28, not {reports.cutoff_day}")
    reports_table.finish()

    tg = root.table("telegram", required=False)
    telegram = TelegramConfig(
        base_url=_read_url(tg, "base_url", "https://api.telegram.org/bot"),
        base_file_url=_read_url(tg, "base_file_url", "https://api.telegram.org/file/bot"),
        poll_timeout=tg.positive_int("poll_timeout", 30, allow_zero=True),
        rate_limiter=tg.typed("rate_limiter", bool, True),
        send_process=tg.typed("send_process", bool, True),
    )
    tg.finish()

    zl = root.table("zalo", required=False)
    zalo = ZaloConfig(
        base_url=_read_url(zl, "base_url", "https://bot-api.zaloplatforms.com"),
        poll_timeout=zl.positive_int("poll_timeout", 30, allow_zero=True),
    )
    zl.finish()

    wb = root.table("web", required=False)
    web = WebConfig(
        public_base_url=_read_url(wb, "public_base_url", "", allow_empty=True),
        listen_host=wb.text("listen_host", "127.0.0.1"),
        listen_port=wb.positive_int("listen_port", 8080),
        attachment_link_hours=wb.positive_int("attachment_link_hours", 24),
        max_body_bytes=wb.positive_int("max_body_bytes", 1_000_000),
    )
    wb.finish()

    ob = root.table("outbox", required=False)
    outbox = OutboxConfig(
        max_attempts=ob.positive_int("max_attempts", 8),
        overall_per_second=ob.typed("overall_per_second", float, 30.0),
        per_chat_per_second=ob.typed("per_chat_per_second", float, 1.0),
    )
    if outbox.overall_per_second <= 0 or outbox.per_chat_per_second <= 0:
        raise ConfigError("outbox", "rates must be positive")
    ob.finish()
    root.finish()

    secrets = Secrets(
        telegram_token=env.get("PAKN_TELEGRAM_TOKEN") or None,
        telegram_webhook_secret=env.get("PAKN_TELEGRAM_WEBHOOK_SECRET") or None,
        zalo_token=env.get("PAKN_ZALO_TOKEN") or None,
        zalo_webhook_secret=env.get("PAKN_ZALO_WEBHOOK_SECRET") or None,
        link_secret=env.get("PAKN_LINK_SECRET") or None,
    )
    return AppConfig(
        path=config_path,
        commune=commune,
        limits=limits,
        storage=storage,
        units=units,
        categories=categories,
        deadlines=deadlines,
        calendar=calendar,
        reminders=reminders,
        roles=roles,
        routing=routing,
        faq=faq,
        reports=reports,
        telegram=telegram,
        zalo=zalo,
        web=web,
        outbox=outbox,
        secrets=secrets,
    )
