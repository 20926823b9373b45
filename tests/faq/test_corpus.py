"""Loading, checking and rendering the FAQ corpus."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from faq.corpus import (
    KNOWN_PLACEHOLDERS,
    MISSING_FACT_TEXT,
    REQUIRED_TOPIC_IDS,
    Corpus,
    CorpusError,
    Topic,
    TopicGroup,
    check_corpus,
    default_corpus_dir,
    load_corpus,
    placeholders_in,
    render_answer,
)

FIXTURE_DIR = Path(__file__).parent / "data" / "fixture_corpus"
FAQ_TOPICS_DOC = Path("/work/shared/domain/faq-topics.md")

GOOD_FILE = """
[group]
id = "nhom_a"
title = "Nhóm A"

[[topics]]
id = "chu_de_a"
title = "Chủ đề A"
answer = "Trả lời A, gọi {commune_phone}."
basis = "Luật A, Điều 1"
questions = ["Câu hỏi một?", "Câu hỏi hai?", "Câu hỏi ba?"]
related = ["chu_de_b"]

[[topics]]
id = "chu_de_b"
title = "Chủ đề B"
answer = "Trả lời B."
basis = "Luật B, Điều 2"
questions = ["Hỏi B một?", "Hỏi B hai?", "Hỏi B ba?"]
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def make_topic(**overrides: object) -> Topic:
    fields: dict[str, object] = {
        "id": "chu_de",
        "group_id": "nhom",
        "title": "Chủ đề",
        "answer": "Câu trả lời.",
        "basis": "Luật X, Điều 1",
        "questions": ("Hỏi một?", "Hỏi hai?", "Hỏi ba?"),
        "related": (),
    }
    fields.update(overrides)
    return Topic(**fields)  # type: ignore[arg-type]


def corpus_of(*topics: Topic) -> Corpus:
    groups: dict[str, list[str]] = {}
    for topic in topics:
        groups.setdefault(topic.group_id, []).append(topic.id)
    return Corpus(
        topics={t.id: t for t in topics},
        groups=[TopicGroup(gid, gid.title(), tuple(ids)) for gid, ids in groups.items()],
    )


# --------------------------------------------------------------------------- shipped corpus


def shipped_files() -> list[Path]:
    return sorted(default_corpus_dir().glob("*.toml"))


@pytest.mark.skipif(not shipped_files(), reason="faq/data has no corpus files yet")
def test_shipped_corpus_is_complete_and_clean():
    corpus = load_corpus([default_corpus_dir()])
    assert check_corpus(corpus, REQUIRED_TOPIC_IDS) == []


@pytest.mark.skipif(not shipped_files(), reason="faq/data has no corpus files yet")
def test_shipped_corpus_answers_render_with_config_facts():
    corpus = load_corpus()
    facts = dict.fromkeys(KNOWN_PLACEHOLDERS, "X")
    for topic in corpus.topics.values():
        text = render_answer(topic, facts)
        assert "{" not in text and "}" not in text, topic.id
        assert text.endswith(")"), topic.id


@pytest.mark.skipif(not FAQ_TOPICS_DOC.is_file(), reason="shared domain docs not available")
def test_required_ids_match_the_topic_list():
    ids = re.findall(r"^\| `([a-z0-9_]+)` \|", FAQ_TOPICS_DOC.read_text(encoding="utf-8"), re.M)
    assert sorted(ids) == sorted(REQUIRED_TOPIC_IDS)
    assert len(set(REQUIRED_TOPIC_IDS)) == len(REQUIRED_TOPIC_IDS)


# --------------------------------------------------------------------------- loading


def test_fixture_corpus_loads_and_is_clean():
    corpus = load_corpus([FIXTURE_DIR])
    assert [g.id for g in corpus.groups] == ["khieu_nai_to_cao", "dich_vu"]
    assert corpus.groups[0].topic_ids == (
        "khieu_nai_thoi_hieu",
        "khieu_nai_gui_ai",
        "to_cao_bao_mat",
    )
    topic = corpus.topic("khieu_nai_thoi_hieu")
    assert topic.group_id == "khieu_nai_to_cao"
    assert topic.basis == "Luật Khiếu nại 2011, Điều 9"
    assert len(topic.questions) == 4
    assert topic.related == ("khieu_nai_gui_ai",)
    assert corpus.topic("bot_khan_cap").related == ()
    assert check_corpus(corpus) == []


def test_later_directories_add_topics_and_groups(tmp_path):
    extra = tmp_path / "extra"
    write(
        extra,
        "a.toml",
        """
[group]
id = "khieu_nai_to_cao"
title = "ignored: the group exists"

[[topics]]
id = "rut_don"
title = "Rút đơn"
answer = "Được rút bằng văn bản."
basis = "Luật Khiếu nại 2011, Điều 10"
questions = ["Rút đơn được không?", "Muốn rút khiếu nại", "rut don"]
""",
    )
    write(extra, "b.toml", GOOD_FILE)
    corpus = load_corpus([FIXTURE_DIR, extra])
    assert "rut_don" in corpus.topics
    group = corpus.group("khieu_nai_to_cao")
    assert group is not None
    assert group.title == "Khiếu nại, tố cáo"
    assert group.topic_ids[-1] == "rut_don"
    assert [g.id for g in corpus.groups] == ["khieu_nai_to_cao", "dich_vu", "nhom_a"]
    assert check_corpus(corpus) == []


def test_duplicate_id_across_directories_is_an_error(tmp_path):
    write(tmp_path / "one", "a.toml", GOOD_FILE)
    write(tmp_path / "two", "a.toml", GOOD_FILE)
    with pytest.raises(CorpusError, match="duplicate topic id 'chu_de_a'"):
        load_corpus([tmp_path / "one", tmp_path / "two"])


def test_duplicate_id_in_one_file_is_an_error(tmp_path):
    text = GOOD_FILE.replace('id = "chu_de_b"', 'id = "chu_de_a"')
    write(tmp_path, "a.toml", text)
    with pytest.raises(CorpusError, match="duplicate topic id"):
        load_corpus([tmp_path])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[group\nid = 1", "cannot read"),
        ('[[topics]]\nid = "a"', r"\[group\] table"),
        ('[group]\ntitle = "x"', "'id' must be a non-empty string"),
        ('[group]\nid = "Bad Id"', "snake_case"),
        ('topics = "x"\n[group]\nid = "g"', "array of tables"),
        ('[group]\nid = "g"\n[[topics]]\ntitle = "x"', "'id' must be"),
        ('[group]\nid = "g"\n[[topics]]\nid = "t"\nquestions = "one"', "array of strings"),
        ('[group]\nid = "g"\n[[topics]]\nid = "t"\nanswer = 3', "'answer' must be a string"),
    ],
)
def test_malformed_files_are_rejected(tmp_path, text, message):
    write(tmp_path, "bad.toml", text)
    with pytest.raises(CorpusError, match=message):
        load_corpus([tmp_path])


def test_missing_directory_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus([tmp_path / "nope"])


def test_empty_directory_gives_an_empty_corpus(tmp_path):
    corpus = load_corpus([tmp_path])
    assert corpus.topics == {}
    assert corpus.groups == []
    assert check_corpus(corpus) == []


# --------------------------------------------------------------------------- checking


def test_check_reports_missing_required_ids():
    corpus = load_corpus([FIXTURE_DIR])
    problems = check_corpus(corpus, ["khieu_nai_thoi_hieu", "rut_don", "nac_danh"])
    assert problems == ["required topic ids missing: rut_don, nac_danh"]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"answer": "  "}, "answer is empty"),
        ({"basis": ""}, "basis (legal basis) is empty"),
        ({"title": ""}, "title is empty"),
        ({"title": "x" * 49}, "title has 49 characters (at most 48)"),
        ({"questions": ("Một?", "Hai?")}, "2 question variants (at least 3)"),
        ({"questions": ("Một?", "Hai?", "Ba?", "")}, "empty question variant"),
        ({"questions": ("Một?", "Hai?", "một?")}, "same question variant twice"),
        ({"answer": "Gọi {phone}."}, "unknown placeholder {phone}"),
        ({"answer": "Gọi {commune_phone."}, "unmatched brace"),
        ({"title": "Xã {commune}"}, "title uses unknown placeholder {commune}"),
        ({"related": ("khong_co",)}, "related id 'khong_co' does not exist"),
        ({"related": ("chu_de",)}, "lists itself as related"),
        ({"id": "Chu De"}, "snake_case"),
    ],
)
def test_check_detects_each_broken_topic(overrides, fragment):
    problems = check_corpus(corpus_of(make_topic(**overrides)))
    assert len(problems) >= 1
    assert any(fragment in p for p in problems), problems


def test_check_accepts_a_good_topic():
    assert check_corpus(corpus_of(make_topic(answer="Gọi {commune_hotline}."))) == []


def test_check_detects_group_inconsistencies():
    a = make_topic(id="a", group_id="g1")
    b = make_topic(id="b", group_id="g1")
    corpus = Corpus(
        topics={"a": a, "b": b, "other": make_topic(id="c", group_id="g1")},
        groups=[
            TopicGroup("g1", "G1", ("a", "ghost")),
            TopicGroup("g2", "", ("a", "b")),
            TopicGroup("g2", "again", ()),
        ],
    )
    problems = check_corpus(corpus)
    expected = [
        "group 'g1': lists unknown topic 'ghost'",
        "group 'g2': title is empty",
        "topic 'a': listed twice",
        "topic 'b': group_id 'g1' but listed in group 'g2'",
        "group 'g2': id used twice",
        "topic 'other': belongs to no group",
        "topic 'c': stored under another id 'other'",
    ]
    for fragment in expected:
        assert any(fragment in p for p in problems), (fragment, problems)


def test_placeholders_in():
    assert placeholders_in("{a} và {commune_name}, {}") == ["a", "commune_name", ""]


# --------------------------------------------------------------------------- rendering


def test_render_answer_fills_facts_and_appends_basis():
    topic = load_corpus([FIXTURE_DIR]).topic("lien_he_ubnd")
    facts = {
        "authority": "Ủy ban nhân dân xã Hà Bắc",
        "commune_address": "Thôn Trung Tâm",
        "commune_phone": "0220 3 868 100",
        "commune_hotline": "0912 345 678",
        "office_hours": "Sáng 7:30–11:30",
    }
    text = render_answer(topic, facts)
    assert text == (
        "Ủy ban nhân dân xã Hà Bắc: địa chỉ Thôn Trung Tâm, điện thoại 0220 3 868 100, "
        "đường dây nóng 0912 345 678. Giờ làm việc: Sáng 7:30–11:30. "
        "(Luật Thực hiện dân chủ ở cơ sở 2022, Điều 11)"
    )


def test_render_answer_with_missing_fact_uses_neutral_text_and_warns(caplog):
    topic = make_topic(answer="Gọi {commune_hotline} hoặc {commune_phone}.")
    with caplog.at_level(logging.WARNING, logger="faq.corpus"):
        text = render_answer(topic, {"commune_phone": "  "})
    assert text == (f"Gọi {MISSING_FACT_TEXT} hoặc {MISSING_FACT_TEXT}. (Luật X, Điều 1)")
    assert "commune_hotline" in caplog.text
    assert "commune_phone" in caplog.text


def test_render_answer_does_not_double_parentheses_and_skips_empty_basis():
    assert (
        render_answer(make_topic(basis="(Luật Y, Điều 2)"), {}) == "Câu trả lời. (Luật Y, Điều 2)"
    )
    assert render_answer(make_topic(basis=""), {}) == "Câu trả lời."


def test_render_answer_leaves_unknown_placeholders_neutral():
    text = render_answer(make_topic(answer="Xem {nothing_known}."), {"nothing_known": "x"})
    assert text.startswith("Xem x.")
