"""The FAQ matcher: outcomes, scores, JSON shape, dev-set figures and speed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from faq.corpus import (
    REQUIRED_TOPIC_IDS,
    Corpus,
    Topic,
    TopicGroup,
    default_corpus_dir,
    load_corpus,
)
from faq.matcher import (
    FaqDecision,
    FaqMatcher,
    content_tokens,
    evaluate,
    read_labelled,
)

DATA = Path(__file__).parent / "data"
FIXTURE_DIR = DATA / "fixture_corpus"
DEV_SET = DATA / "faq_dev.jsonl"
# Written apart from the corpus (from the topic descriptions, in citizens' styles); its wording
# must stay independent of the question variants, or its figures mean little.
DEV2_SET = DATA / "faq_dev2.jsonl"
# Out-of-scope questions only, written while tuning the matcher's out-of-scope guards.
OOS_EXTRA_SET = DATA / "faq_oos_extra.jsonl"
CONFIG = Path(__file__).resolve().parents[2] / "config.toml"


@pytest.fixture(scope="module")
def fixture_matcher() -> FaqMatcher:
    return FaqMatcher.build(load_corpus([FIXTURE_DIR]))


def shipped_corpus_ready() -> bool:
    if not any(default_corpus_dir().glob("*.toml")):
        return False
    return set(REQUIRED_TOPIC_IDS) <= set(load_corpus().topics)


needs_shipped = pytest.mark.skipif(
    not shipped_corpus_ready(), reason="the shipped FAQ corpus is not complete yet"
)


def config_faq() -> dict[str, object]:
    import tomllib

    with CONFIG.open("rb") as handle:
        return dict(tomllib.load(handle)["faq"])


@pytest.fixture(scope="module")
def shipped_matcher() -> FaqMatcher:
    return FaqMatcher.from_config(load_corpus(), config_faq())


# --------------------------------------------------------------------------- fixture corpus


@pytest.mark.parametrize(
    ("question", "outcome", "topic_id"),
    [
        ("Thời hiệu khiếu nại là bao lâu ạ?", "answer", "khieu_nai_thoi_hieu"),
        ("thoi hieu khieu nai", "answer", "khieu_nai_thoi_hieu"),  # no diacritics
        ("thoi hieu kn", "answer", "khieu_nai_thoi_hieu"),  # abbreviation
        ("THỜI HIỆU KHIẾU NẠI???", "answer", "khieu_nai_thoi_hieu"),
        ("thoi hiue khieu nai", "answer", "khieu_nai_thoi_hieu"),  # typo
        ("khieunai thoi hieu", "answer", "khieu_nai_thoi_hieu"),  # glued words
        ("nộp đơn kn ở đâu vậy", "answer", "khieu_nai_gui_ai"),
        ("sdt ubnd xa", "answer", "lien_he_ubnd"),
        ("số đt của xã", "answer", "lien_he_ubnd"),
        ("nhà cháy gọi số nào", "answer", "bot_khan_cap"),
        ("tố cáo có bị lộ danh tính ko", "answer", "to_cao_bao_mat"),
        ("khiếu nại", "suggest", "khieu_nai_gui_ai"),  # one word, two topics share it
    ],
)
def test_fixture_questions(fixture_matcher, question, outcome, topic_id):
    decision = fixture_matcher.match(question)
    assert decision.outcome == outcome, decision
    if outcome == "suggest":
        assert topic_id in decision.suggestions
    else:
        assert decision.topic_id == topic_id


@pytest.mark.parametrize(
    "question",
    [
        "Thời tiết ngày mai thế nào?",
        "giá lúa hôm nay",
        "đăng ký khai sinh cần gì",
        "thủ tục ly hôn",
        "xin chào",
        "",
        "   ",
        "???",
        "ạ",
    ],
)
def test_fixture_out_of_scope_is_never_answered(fixture_matcher, question):
    assert fixture_matcher.match(question).outcome != "answer"


def test_empty_question_is_none_with_zero_score(fixture_matcher):
    decision = fixture_matcher.match("")
    assert decision == FaqDecision("none", None, 0.0, [])
    assert decision.as_json_dict() == {
        "id": None,
        "score": 0.0,
        "outcome": "none",
        "alternatives": [],
    }


def test_scores_are_in_unit_interval_and_ranked(fixture_matcher):
    ranked = fixture_matcher.rank("khiếu nại quyết định thời hiệu bao lâu gửi ai")
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_short_query_matches_long_variant():
    long_question = (
        "Cho tôi hỏi là nếu như gia đình tôi muốn được biết về việc thời hiệu khiếu nại "
        "đối với quyết định hành chính của ủy ban nhân dân xã thì được tính như thế nào ạ"
    )
    corpus = Corpus(
        topics={
            "dai": Topic("dai", "g", "Dài", "a", "b", (long_question, "x y z", "p q r")),
            "khac": Topic(
                "khac",
                "g",
                "Khác",
                "a",
                "b",
                ("Gia đình tôi muốn biết ủy ban xã ở đâu", "địa chỉ xã", "xã ở đâu"),
            ),
        },
        groups=[TopicGroup("g", "G", ("dai", "khac"))],
    )
    matcher = FaqMatcher.build(corpus)
    decision = matcher.match("thời hiệu khiếu nại")
    assert (decision.outcome, decision.topic_id) == ("answer", "dai")
    # One shared common word is not enough for a confident answer.
    assert matcher.match("gia đình tôi đi du lịch").outcome != "answer"


def test_margin_turns_a_tie_into_a_suggestion():
    corpus = Corpus(
        topics={
            "a": Topic("a", "g", "A", "x", "y", ("đơn khiếu nại", "khiếu nại đơn", "đơn kn")),
            "b": Topic("b", "g", "B", "x", "y", ("đơn khiếu nại", "khiếu nại", "kn đơn")),
        },
        groups=[TopicGroup("g", "G", ("a", "b"))],
    )
    decision = FaqMatcher.build(corpus).match("đơn khiếu nại")
    assert decision.outcome == "suggest"
    assert set(decision.suggestions) == {"a", "b"}


def test_a_clear_lead_answers_below_the_answer_threshold(fixture_matcher):
    question = "khiếu nại mấy ngày thì hết hạn"
    top, second = fixture_matcher.rank(question)[:2]
    lead = top[1] - second[1]
    corpus = load_corpus([FIXTURE_DIR])
    # The same scores, judged with an answer threshold just above the top score:
    strict = FaqMatcher.build(
        corpus, answer_threshold=min(1.0, top[1] + 0.01), clear_lead_margin=1.0
    )
    assert strict.match(question).outcome == "suggest"
    lenient = FaqMatcher.build(
        corpus,
        answer_threshold=min(1.0, top[1] + 0.01),
        clear_lead_threshold=top[1] - 0.01,
        clear_lead_margin=lead - 0.01,
    )
    decision = lenient.match(question)
    assert (decision.outcome, decision.topic_id) == ("answer", top[0])


def test_thresholds_are_validated():
    corpus = load_corpus([FIXTURE_DIR])
    with pytest.raises(ValueError, match="suggest_threshold"):
        FaqMatcher.build(corpus, answer_threshold=0.4, suggest_threshold=0.5)
    with pytest.raises(ValueError, match="answer_margin"):
        FaqMatcher.build(corpus, answer_margin=-0.1)
    with pytest.raises(ValueError, match="clear_lead_threshold"):
        FaqMatcher.build(corpus, clear_lead_threshold=0.2)


def test_from_config_reads_thresholds():
    matcher = FaqMatcher.from_config(
        load_corpus([FIXTURE_DIR]),
        {
            "answer_threshold": 0.9,
            "answer_margin": 0.2,
            "suggest_threshold": 0.3,
            "clear_lead_threshold": 0.5,
            "clear_lead_margin": 0.3,
        },
    )
    assert (
        matcher.answer_threshold,
        matcher.answer_margin,
        matcher.suggest_threshold,
        matcher.clear_lead_threshold,
        matcher.clear_lead_margin,
    ) == (0.9, 0.2, 0.3, 0.5, 0.3)


def test_json_format(fixture_matcher):
    decision = fixture_matcher.match("Thời hiệu khiếu nại là bao lâu?")
    data = decision.as_json_dict()
    assert list(data) == ["id", "score", "outcome", "alternatives"]
    assert data["id"] == "khieu_nai_thoi_hieu"
    assert data["outcome"] == "answer"
    assert isinstance(data["score"], float)
    assert data["score"] == round(data["score"], 2)
    assert 1 <= len(data["alternatives"]) <= 3
    for alternative in data["alternatives"]:
        assert list(alternative) == ["id", "score"]
        assert alternative["id"] != data["id"]
        assert alternative["score"] == round(alternative["score"], 2)
    json.dumps(data, ensure_ascii=False)  # serialisable as is


def test_json_rounding():
    decision = FaqDecision("suggest", "a", 0.8349, [("b", 0.41666), ("c", 0.1)])
    assert decision.as_json_dict() == {
        "id": "a",
        "score": 0.83,
        "outcome": "suggest",
        "alternatives": [{"id": "b", "score": 0.42}, {"id": "c", "score": 0.1}],
    }
    assert decision.suggestions == ["a", "b", "c"]


def test_content_tokens_drop_politeness_but_keep_meaning():
    assert content_tokens("Cho em hỏi là khiếu nại ạ?") == ["khieu", "nai"]
    # "tố", "Ban" and "ánh" fold to common words but must survive.
    assert content_tokens("tố cáo Ban thanh tra") == ["to", "cao", "ban", "thanh", "tra"]
    assert content_tokens("phản ánh") == ["phan", "anh"]
    assert content_tokens("hội nghị thôn") == ["hoi", "nghi", "thon"]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("khiếu nại bao lâu", "khiếu nại mấy ngày"),
        ("khiếu nại như thế nào", "khiếu nại ra sao"),
        ("gửi đơn ở đâu", "gửi đơn chỗ nào"),
        ("tiếp dân khi nào", "tiếp dân bao giờ"),
        ("tiếp dân online", "tiếp dân trực tuyến"),
        ("giữ kín tên tuổi", "giữ bí mật danh tính"),
        ("đơn ẩn danh", "đơn nặc danh"),
        ("khiếu nại lần 2", "khiếu nại lần thứ hai"),
        ("đơn vừa kn vừa tc", "đơn vừa khiếu nại vừa tố cáo"),
        ("tố giác cán bộ", "tố cáo cán bộ"),
        ("bỏ phiếu qua zalo", "biểu quyết qua zalo"),
        ("chừng nào tiếp dân", "khi nào tiếp dân"),
        ("mần răng để khiếu nại", "làm sao để khiếu nại"),
        ("khiếu nại gửi mô", "khiếu nại gửi đâu"),
        ("xã có làm việc hông", "xã có làm việc không"),
        ("thứ bảy xã có làm không", "thứ 7 xã có làm không"),
        ("coi kết quả", "xem kết quả"),
        ("ê khiếu nại", "khiếu nại"),
    ],
)
def test_question_words_and_synonyms_are_unified(one, other):
    assert content_tokens(one) == content_tokens(other)


def test_broken_and_agreement_keep_their_meaning():
    assert content_tokens("đèn đường bị hỏng") == ["den", "duong", "bi", "hong"]
    assert content_tokens("góp ý") == ["gop", "y"]


def test_question_words_become_markers():
    assert content_tokens("hương ước là gì") == ["huong", "uoc", "q_what"]
    assert content_tokens("bao lâu") == ["q_how_long"]


def test_other_subject_is_not_answered_by_a_topic_that_never_mentions_it():
    corpus = Corpus(
        topics={
            "tt": Topic(
                "tt",
                "g",
                "Thủ tục",
                "a",
                "b",
                ("làm thủ tục ở đâu", "nộp hồ sơ thủ tục ở đâu", "thủ tục hành chính"),
            ),
        },
        groups=[TopicGroup("g", "G", ("tt",))],
    )
    matcher = FaqMatcher.build(corpus)
    assert matcher.match("làm thủ tục ở đâu").outcome == "answer"
    assert matcher.match("làm thủ tục khai sinh ở đâu").outcome != "answer"


def test_a_law_named_in_the_question_must_be_the_topics_legal_basis():
    corpus = Corpus(
        topics={
            "kn": Topic(
                "kn",
                "g",
                "Thời hiệu khiếu nại",
                "90 ngày.",
                "Luật Khiếu nại 2011, Điều 9",
                ("thời hiệu khiếu nại bao lâu", "khiếu nại trong mấy ngày", "hạn khiếu nại"),
            ),
            "luat": Topic(
                "luat",
                "g",
                "Luật dân chủ ở cơ sở",
                "Luật có 6 chương, 91 điều.",
                "Luật Thực hiện dân chủ ở cơ sở 2022",
                ("luật có bao nhiêu điều", "luật có mấy chương", "luật dân chủ ở cơ sở"),
            ),
        },
        groups=[TopicGroup("g", "G", ("kn", "luat"))],
    )
    matcher = FaqMatcher.build(corpus)
    assert matcher.match("luật có bao nhiêu điều").topic_id == "luat"
    assert matcher.match("Luật Khiếu nại có bao nhiêu điều").outcome != "answer"
    theirs = matcher.match("theo luật khiếu nại thì thời hiệu khiếu nại bao lâu")
    assert (theirs.outcome, theirs.topic_id) == ("answer", "kn")


def test_one_word_the_corpus_never_uses_is_never_answered():
    corpus = Corpus(
        topics={
            "tet": Topic("tet", "g", "Nghỉ Tết", "a", "b", ("tết nghỉ", "nghỉ tết", "tết")),
        },
        groups=[TopicGroup("g", "G", ("tet",))],
    )
    matcher = FaqMatcher.build(corpus)
    assert matcher.match("tết").outcome == "answer"
    # "test" is one edit from "tet": a guess, so at most a suggestion.
    assert matcher.rank("test")[0][0] == "tet"
    assert matcher.match("test").outcome != "answer"


def test_a_syllable_seen_only_inside_a_word_counts_less_alone(fixture_matcher):
    # "cao" is always "tố cáo" in the fixture corpus; "sốt cao" is something else.
    with_partner = fixture_matcher.rank("tố cáo")[0]
    alone = fixture_matcher.rank("cao")[0]
    assert with_partner[0] == alone[0] == "to_cao_bao_mat"
    assert alone[1] < with_partner[1]


def test_read_labelled():
    lines = ['{"q": "a", "id": "x"}', "", '{"q": "b", "id": null}']
    assert read_labelled(lines) == [("a", "x"), ("b", None)]
    with pytest.raises(ValueError, match="line 1"):
        read_labelled(['{"q": 1, "id": "x"}'])


def test_evaluate_counts(fixture_matcher):
    result = evaluate(
        fixture_matcher,
        [
            ("thoi hieu khieu nai", "khieu_nai_thoi_hieu"),
            ("thoi hieu khieu nai", "khieu_nai_gui_ai"),
            ("khiếu nại", "khieu_nai_thoi_hieu"),
            ("giá lúa", None),
        ],
    )
    assert (result.in_scope, result.out_of_scope) == (3, 1)
    assert (result.answered_correct, result.answered_wrong) == (1, 1)
    assert (result.suggested, result.suggested_hit) == (1, 1)
    assert result.answered_out_of_scope == 0
    assert len(result.failures) == 2
    assert not result.all_targets_met


# --------------------------------------------------------------------------- shipped corpus


def dev_items(path: Path = DEV_SET) -> list[tuple[str, str | None]]:
    return read_labelled(path.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize(
    ("path", "min_in_scope", "min_out_of_scope"), [(DEV_SET, 150, 40), (DEV2_SET, 250, 80)]
)
def test_dev_set_shape(path, min_in_scope, min_out_of_scope):
    items = dev_items(path)
    in_scope = [i for _, i in items if i is not None]
    assert len(in_scope) >= min_in_scope
    assert len(items) - len(in_scope) >= min_out_of_scope
    assert set(REQUIRED_TOPIC_IDS) <= set(in_scope)
    questions = [" ".join(q.lower().split()) for q, _ in items]
    assert len(set(questions)) == len(questions)


@needs_shipped
@pytest.mark.parametrize("path", [DEV_SET, DEV2_SET])
def test_dev_set_ids_exist_in_shipped_corpus(path):
    topics = load_corpus().topics
    assert {i for _, i in dev_items(path) if i is not None} <= set(topics)


@needs_shipped
@pytest.mark.parametrize("path", [DEV_SET, DEV2_SET])
def test_dev_set_meets_targets(shipped_matcher, path):
    result = evaluate(shipped_matcher, dev_items(path))
    report = "\n".join(f"{label}: {figure}" for label, figure, _ in result.targets())
    assert result.all_targets_met, report + "\n" + "\n".join(f.describe() for f in result.failures)


@needs_shipped
@pytest.mark.parametrize(
    ("path", "min_top1", "max_wrong"),
    # Achieved: dev 98.5 % right / 0.5 % wrong, dev2 95.9 % / 0.9 % (answer 0.50, margin 0.05).
    [(DEV_SET, 0.96, 0.01), (DEV2_SET, 0.94, 0.015)],
)
def test_dev_figures_keep_a_margin_over_the_targets(shipped_matcher, path, min_top1, max_wrong):
    # The held-out sets are harder than sets the thresholds were chosen on: keep a margin. A
    # drop here after a change means it fits the dev sets less, not that the threshold moves.
    result = evaluate(shipped_matcher, dev_items(path))
    report = "\n".join(f"{label}: {figure}" for label, figure, _ in result.targets())
    assert result.top1_accuracy >= min_top1, report
    assert result.wrong_answer_rate <= max_wrong, report
    assert result.suggestion_hit_rate >= 0.95, report
    assert result.answered_out_of_scope == 0, report


@needs_shipped
def test_extra_out_of_scope_questions_are_rarely_answered(shipped_matcher):
    # 221 questions on other procedures, services, prices, reports of local problems and chat,
    # written while tuning (OTHER_SUBJECTS drew on its first half). 3 are answered today, all
    # close to a topic ("hỗ trợ làm nhà cho hộ nghèo" looks like what is made public).
    result = evaluate(shipped_matcher, dev_items(OOS_EXTRA_SET))
    assert result.out_of_scope == len(dev_items(OOS_EXTRA_SET))
    answered = [f.question for f in result.failures]
    assert result.answered_out_of_scope <= 4, answered


@needs_shipped
def test_dev2_is_not_copied_into_the_corpus():
    from rapidfuzz import fuzz, process

    from bot.rules.textnorm import normalize

    variants = [normalize(q) for t in load_corpus().topics.values() for q in t.questions]
    too_close = []
    for question, _ in dev_items(DEV2_SET):
        match = process.extractOne(normalize(question), variants, scorer=fuzz.ratio)
        if match is not None and match[1] >= 95:
            too_close.append((question, match[0]))
    assert not too_close, "rephrase these corpus variants: " + repr(too_close)


@needs_shipped
@pytest.mark.parametrize(
    ("question", "topic_id"),
    [
        ("Thời hiệu khiếu nại là bao lâu?", "khieu_nai_thoi_hieu"),
        ("thoi hieu khieu nai", "khieu_nai_thoi_hieu"),
        ("Chủ tịch xã tiếp dân ngày nào", "lich_tiep_cong_dan"),
        ("lich tiep dan cua ct xa", "lich_tiep_cong_dan"),
        ("sdt ubnd xa", "lien_he_ubnd"),
        ("có được biểu quyết qua zalo ko", "bieu_quyet_truc_tuyen"),
        ("gửi đơn nặc danh có được giải quyết k", "nac_danh"),
        ("huong uoc la gi", "huong_uoc_khai_niem"),
        ("tố cáo có bị lộ tên không", "to_cao_bao_mat"),
        ("tranh chấp đất với hàng xóm", "tranh_chap_dat_hoa_giai"),
        ("ban thanh tra nhân dân làm gì", "ban_thanh_tra_nhan_dan"),
        ("nhà cháy gọi số mấy", "bot_khan_cap"),
    ],
)
def test_shipped_answers(shipped_matcher, question, topic_id):
    decision = shipped_matcher.match(question)
    assert (decision.outcome, decision.topic_id) == ("answer", topic_id), decision


@needs_shipped
@pytest.mark.parametrize(
    "question",
    [
        "Thời tiết ngày mai thế nào?",
        "giá lúa hôm nay bao nhiêu",
        "giá vàng",
        "tối nay đội tuyển đá bóng mấy giờ",
        "thủ tục ly hôn cần gì",
        "đăng ký khai sinh cần gì",
        "làm bằng lái xe ở đâu",
        "cách nấu thịt kho",
        "xin chào",
        "cảm ơn ad nhé",
        "phân bón giá bao nhiêu",  # shares only syllables with "bổn phận"
        "cấp sổ hộ nghèo mất bao lâu",
        "đăng ký tạm trú online",
        "giờ mở cửa bưu điện xã",
    ],
)
def test_shipped_out_of_scope_is_never_answered(shipped_matcher, question):
    assert shipped_matcher.match(question).outcome != "answer"


@needs_shipped
def test_a_question_made_of_word_pairs_the_corpus_never_uses_scores_lower(shipped_matcher):
    # Same frame, same topic; "bưu điện" is no word of the FAQ although both syllables are.
    known = dict(shipped_matcher.rank("giờ mở cửa ủy ban xã"))
    novel = dict(shipped_matcher.rank("giờ mở cửa bưu điện huyện"))
    assert novel.get("lien_he_ubnd", 0.0) < known["lien_he_ubnd"] - 0.1


# --------------------------------------------------------------------------- speed


def test_synthetic_corpus_speed():
    # CPU time, not wall-clock time: the test machine may be busy with other work.
    topics = {}
    words = [f"tu{i}" for i in range(600)]
    for n in range(1000):
        variants = tuple(
            " ".join(words[(n * 7 + k * 13 + j * 31) % len(words)] for j in range(8))
            for k in range(5)
        )
        topics[f"t{n}"] = Topic(f"t{n}", "g", f"T {n}", "a", "b", variants)
    corpus = Corpus(topics=topics, groups=[TopicGroup("g", "G", tuple(topics))])
    started = time.process_time()
    matcher = FaqMatcher.build(corpus)
    assert time.process_time() - started < 2.0
    queries = [" ".join(t.questions[0].split()[:4]) for t in list(topics.values())[:300]]
    queries += ["tu1 tu2 tu3 tuxyz", "khong lien quan gi", "tu599 tu0 tu7 tu14 tu21"]
    timings = []
    for query in queries:
        t0 = time.process_time()
        matcher.match(query)
        timings.append(time.process_time() - t0)
    timings.sort()
    assert timings[int(0.99 * len(timings)) - 1] < 0.005
