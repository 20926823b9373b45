"""The FAQ corpus: topics grouped by theme, loaded from TOML files, checked and rendered.

Each ``*.toml`` file of a corpus directory holds one group and its topics::

    [group]
    id = "dan_chu_co_so"
    title = "Dân chủ ở cơ sở"

    [[topics]]
    id = "dccs_phuong_cham"
    title = "…"              # at most 48 characters: it is shown on buttons
    answer = \"\"\"…\"\"\"        # may contain placeholders such as {commune_name}
    basis = "Luật …, Điều 3"
    questions = ["…", …]      # how citizens ask it
    related = ["…"]           # ids offered as "Xem thêm"

Several directories may be loaded (the shipped one plus those of ``[faq] extra_corpus_dirs``):
a later file may add topics to a group that already exists, but a topic id may appear only
once. Structural mistakes (bad TOML, wrong types, duplicate ids) raise :class:`CorpusError`
at load time; content problems (missing answer, too few variants, unknown placeholders…) are
reported by :func:`check_corpus` so that all of them can be fixed in one go.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

TITLE_MAX_CHARS = 48
MIN_QUESTION_VARIANTS = 3

# Facts taken from config.toml that answers may refer to as ``{name}``.
KNOWN_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "commune_name",
        "authority",
        "commune_address",
        "commune_phone",
        "commune_hotline",
        "commune_email",
        "office_hours",
        "reception_schedule",
        "one_stop_desk",
        "public_service_portal",
        "open_days",
        "pakn_answer_days",
        "khieu_nai_accept_days",
        "khieu_nai_answer_days",
        "to_cao_accept_days",
        "to_cao_answer_days",
        "rating_days",
        "reopen_days",
        "data_retention",
    }
)

# What replaces a placeholder whose fact is not configured: neutral and never wrong.
MISSING_FACT_TEXT = "liên hệ UBND xã"

# Every topic id listed in shared/domain/faq-topics.md: the shipped corpus must have them all.
REQUIRED_TOPIC_IDS: tuple[str, ...] = (
    # Dân chủ ở cơ sở
    "dccs_phuong_cham",
    "dccs_luat",
    "dccs_quyen",
    "dccs_nghia_vu",
    "dccs_thu_huong",
    "dccs_hanh_vi_cam",
    "cong_khai_noi_dung",
    "cong_khai_hinh_thuc",
    "cong_khai_thoi_han",
    "niem_yet_thoi_gian",
    "yeu_cau_cung_cap_thong_tin",
    "dan_quyet_dinh",
    "de_xuat_thon_ban",
    "ty_le_bieu_quyet",
    "bieu_quyet_truc_tuyen",
    "hop_thon_thong_bao",
    "hoi_nghi_thon_dinh_ky",
    "truong_thon_bau_mien_nhiem",
    "huong_uoc_khai_niem",
    "huong_uoc_thong_qua",
    "huong_uoc_trai_luat",
    "gop_y_truoc_quyet_dinh",
    "lay_y_kien_thoi_gian",
    "y_kien_khong_tiep_thu",
    "trinh_bay_truoc_quyet_dinh",
    "giam_sat_cach_thuc",
    "ban_thanh_tra_nhan_dan",
    "ban_giam_sat_dau_tu",
    "doi_thoai_dinh_ky",
    "danh_gia_hai_long",
    # Phản ánh, kiến nghị, khiếu nại, tố cáo
    "phan_biet_pakn_kn_tc",
    "gui_pakn_thu_tuc",
    "lich_tiep_cong_dan",
    "tiep_dan_thoi_han_tra_loi",
    "tiep_dan_can_mang_gi",
    "tiep_dan_truc_tuyen",
    "khieu_nai_gui_ai",
    "khieu_nai_don_noi_dung",
    "khieu_nai_thoi_hieu",
    "khieu_nai_thoi_han",
    "khieu_nai_lan_hai",
    "khieu_nai_khong_thu_ly",
    "to_cao_gui_ai",
    "to_cao_don_noi_dung",
    "to_cao_thu_ly_thoi_han",
    "to_cao_giai_quyet_thoi_han",
    "to_cao_qua_han",
    "to_cao_bao_mat",
    "to_cao_bao_ve",
    "nac_danh",
    "rut_don",
    "nhieu_nguoi_cung_khieu_nai",
    "don_vua_kn_vua_tc",
    "gui_nham_noi",
    "tranh_chap_dat_hoa_giai",
    "han_chot_ngay_nghi",
    "thu_tuc_hanh_chinh",
    # Dữ liệu cá nhân
    "du_lieu_thu_thap",
    "du_lieu_quyen",
    "anh_can_cuoc",
    "du_lieu_luu_bao_lau",
    # Using this service
    "bot_gui_phan_anh",
    "bot_tra_cuu",
    "bot_thoi_han_xu_ly",
    "bot_khong_hai_long",
    "bot_khan_cap",
    "lien_he_ubnd",
)

_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class CorpusError(ValueError):
    """A corpus file cannot be loaded: unreadable TOML, wrong shape, or a duplicate id."""


@dataclass(frozen=True, slots=True)
class Topic:
    """One question the bot can answer, with the ways citizens ask it."""

    id: str
    group_id: str
    title: str
    answer: str
    basis: str
    questions: tuple[str, ...]
    related: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicGroup:
    """A theme (menu section) and the ids of its topics, in file order."""

    id: str
    title: str
    topic_ids: tuple[str, ...]


@dataclass(slots=True)
class Corpus:
    """All topics by id, and the groups in load order."""

    topics: dict[str, Topic] = field(default_factory=dict)
    groups: list[TopicGroup] = field(default_factory=list)

    def topic(self, topic_id: str) -> Topic:
        """The topic with this id (``KeyError`` when there is none)."""
        return self.topics[topic_id]

    def group(self, group_id: str) -> TopicGroup | None:
        """The group with this id, or ``None``."""
        for group in self.groups:
            if group.id == group_id:
                return group
        return None


def default_corpus_dir() -> Path:
    """The corpus shipped with the bot: ``faq/data`` beside this module."""
    return Path(__file__).resolve().parent / "data"


# --------------------------------------------------------------------------- loading


def load_corpus(dirs: Sequence[Path] | None = None) -> Corpus:
    """Load every ``*.toml`` file of ``dirs`` (in order; files by name within a directory).

    ``None`` means the shipped corpus only. A missing directory, a malformed file or a topic
    id seen twice raises :class:`CorpusError` naming the file.
    """
    directories = [default_corpus_dir()] if dirs is None else list(dirs)
    topics: dict[str, Topic] = {}
    topic_origin: dict[str, Path] = {}
    group_titles: dict[str, str] = {}
    group_members: dict[str, list[str]] = {}
    for directory in directories:
        if not directory.is_dir():
            raise CorpusError(f"{directory}: FAQ corpus directory not found")
        for path in sorted(directory.glob("*.toml")):
            group_id, group_title, file_topics = _read_file(path)
            if group_id not in group_titles:
                group_titles[group_id] = group_title
                group_members[group_id] = []
            for topic in file_topics:
                if topic.id in topics:
                    raise CorpusError(
                        f"{path}: duplicate topic id {topic.id!r} "
                        f"(already defined in {topic_origin[topic.id]})"
                    )
                topics[topic.id] = topic
                topic_origin[topic.id] = path
                group_members[group_id].append(topic.id)
    groups = [
        TopicGroup(id=gid, title=title, topic_ids=tuple(group_members[gid]))
        for gid, title in group_titles.items()
    ]
    return Corpus(topics=topics, groups=groups)


def _read_file(path: Path) -> tuple[str, str, list[Topic]]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read: {exc}") from exc
    group = data.get("group")
    if not isinstance(group, dict):
        raise CorpusError(f"{path}: a [group] table with id and title is required")
    group_id = _require_str(group, "id", f"{path}: [group]")
    if not _ID_PATTERN.match(group_id):
        raise CorpusError(f"{path}: [group] id {group_id!r} must be lower-case snake_case")
    group_title = _optional_str(group, "title", f"{path}: [group]")
    raw_topics = data.get("topics", [])
    if not isinstance(raw_topics, list):
        raise CorpusError(f"{path}: 'topics' must be an array of tables ([[topics]])")
    topics: list[Topic] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_topics, start=1):
        where = f"{path}: topic #{index}"
        if not isinstance(raw, dict):
            raise CorpusError(f"{where}: must be a table")
        topic_id = _require_str(raw, "id", where)
        where = f"{path}: topic {topic_id!r}"
        if not _ID_PATTERN.match(topic_id):
            raise CorpusError(f"{where}: id must be lower-case snake_case")
        if topic_id in seen:
            raise CorpusError(f"{path}: duplicate topic id {topic_id!r}")
        seen.add(topic_id)
        topics.append(
            Topic(
                id=topic_id,
                group_id=group_id,
                title=_optional_str(raw, "title", where),
                answer=_optional_str(raw, "answer", where),
                basis=_optional_str(raw, "basis", where),
                questions=_str_tuple(raw, "questions", where),
                related=_str_tuple(raw, "related", where),
            )
        )
    return group_id, group_title, topics


def _require_str(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _optional_str(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise CorpusError(f"{where}: '{key}' must be a string")
    return value.strip()


def _str_tuple(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CorpusError(f"{where}: '{key}' must be an array of strings")
    return tuple(item.strip() for item in value)


# --------------------------------------------------------------------------- checking


def placeholders_in(text: str) -> list[str]:
    """Names of the ``{placeholders}`` in ``text``, in order of appearance."""
    return [match.group(1) for match in _PLACEHOLDER.finditer(text)]


def check_corpus(corpus: Corpus, required_ids: Iterable[str] = ()) -> list[str]:
    """Human-readable problems of ``corpus``; an empty list means it is fit to ship."""
    problems: list[str] = []
    problems.extend(_check_groups(corpus))
    for key, topic in corpus.topics.items():
        problems.extend(_check_topic(key, topic, corpus))
    missing = [tid for tid in dict.fromkeys(required_ids) if tid not in corpus.topics]
    if missing:
        problems.append(f"required topic ids missing: {', '.join(missing)}")
    return problems


def _check_groups(corpus: Corpus) -> list[str]:
    problems: list[str] = []
    seen_groups: set[str] = set()
    owner: dict[str, str] = {}
    for group in corpus.groups:
        if group.id in seen_groups:
            problems.append(f"group {group.id!r}: id used twice")
        seen_groups.add(group.id)
        if not group.title.strip():
            problems.append(f"group {group.id!r}: title is empty")
        for topic_id in group.topic_ids:
            if topic_id in owner:
                problems.append(
                    f"topic {topic_id!r}: listed twice (groups {owner[topic_id]!r} "
                    f"and {group.id!r})"
                )
                continue
            owner[topic_id] = group.id
            if topic_id not in corpus.topics:
                problems.append(f"group {group.id!r}: lists unknown topic {topic_id!r}")
    for topic_id, topic in corpus.topics.items():
        if topic_id not in owner:
            problems.append(f"topic {topic_id!r}: belongs to no group")
        elif owner[topic_id] != topic.group_id:
            problems.append(
                f"topic {topic_id!r}: group_id {topic.group_id!r} but listed in "
                f"group {owner[topic_id]!r}"
            )
    return problems


def _check_topic(key: str, topic: Topic, corpus: Corpus) -> list[str]:
    where = f"topic {topic.id!r}"
    problems: list[str] = []
    if key != topic.id:
        problems.append(f"{where}: stored under another id {key!r}")
    if not _ID_PATTERN.match(topic.id):
        problems.append(f"{where}: id must be lower-case snake_case")
    if not topic.title.strip():
        problems.append(f"{where}: title is empty")
    elif len(topic.title) > TITLE_MAX_CHARS:
        problems.append(
            f"{where}: title has {len(topic.title)} characters (at most {TITLE_MAX_CHARS})"
        )
    if not topic.answer.strip():
        problems.append(f"{where}: answer is empty")
    if not topic.basis.strip():
        problems.append(f"{where}: basis (legal basis) is empty")
    variants = [q for q in topic.questions if q.strip()]
    if len(variants) < MIN_QUESTION_VARIANTS:
        problems.append(
            f"{where}: {len(variants)} question variants (at least {MIN_QUESTION_VARIANTS})"
        )
    if len(variants) != len(topic.questions):
        problems.append(f"{where}: has an empty question variant")
    folded = [" ".join(q.lower().split()) for q in variants]
    if len(set(folded)) != len(folded):
        problems.append(f"{where}: has the same question variant twice")
    for text, label in ((topic.answer, "answer"), (topic.title, "title"), (topic.basis, "basis")):
        for name in placeholders_in(text):
            if name not in KNOWN_PLACEHOLDERS:
                problems.append(f"{where}: {label} uses unknown placeholder {{{name}}}")
        stray = _PLACEHOLDER.sub("", text)
        if "{" in stray or "}" in stray:
            problems.append(f"{where}: {label} has an unmatched brace")
    for related_id in topic.related:
        if related_id == topic.id:
            problems.append(f"{where}: lists itself as related")
        elif related_id not in corpus.topics:
            problems.append(f"{where}: related id {related_id!r} does not exist")
    if len(set(topic.related)) != len(topic.related):
        problems.append(f"{where}: a related id is listed twice")
    return problems


# --------------------------------------------------------------------------- rendering


def render_answer(topic: Topic, facts: Mapping[str, str]) -> str:
    """The answer with its placeholders filled from ``facts``, followed by "(basis)".

    A placeholder whose fact is missing or empty becomes :data:`MISSING_FACT_TEXT` and a
    warning is logged; rendering never fails.
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = facts.get(name, "")
        if isinstance(value, str) and value.strip():
            return value.strip()
        logger.warning(
            "FAQ topic %s: no value for placeholder {%s}; using a neutral text", topic.id, name
        )
        return MISSING_FACT_TEXT

    text = _PLACEHOLDER.sub(fill, topic.answer.strip())
    basis = topic.basis.strip()
    if basis:
        if basis.startswith("(") and basis.endswith(")"):
            basis = basis[1:-1].strip()
        text = f"{text} ({basis})"
    return text
