"""Citizens asking questions in their own words (console channel, SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import AppConfig
from storage.models import Case, FaqLog
from tests.harness import Person, console_runtime, texts_of


@pytest.fixture
async def runtime(config: AppConfig, clock: FakeClock):
    runtime = console_runtime(config, clock)
    yield runtime
    await runtime.dispatcher.stop()
    runtime.db.close()


async def test_a_question_is_answered_with_its_legal_basis_and_related_topics(runtime):
    citizen = Person(runtime, "lan")
    [answer] = await citizen.say("huong uoc la gi vay ad")
    assert "Nghị định 61/2023" in answer.text or "Điều" in answer.text
    assert answer.text.rstrip().endswith("Câu trả lời có giúp ích không?")
    labels = [o.label for o in answer.options]
    assert any(label.startswith("Xem thêm:") for label in labels)
    assert "👍 Có ích" in labels and "👎 Chưa đúng ý" in labels
    [more] = await citizen.choose("Xem thêm")
    assert "Câu trả lời có giúp ích không?" in more.text


async def test_commune_facts_come_from_the_config(runtime, config):
    citizen = Person(runtime, "lan")
    [answer] = await citizen.say("ubnd xã tiếp dân vào ngày nào")
    assert config.commune.reception_schedule in answer.text


async def test_thumbs_up_and_down_are_recorded(runtime):
    citizen = Person(runtime, "lan")
    await citizen.say("hương ước là gì")
    assert "Cảm ơn bạn" in texts_of(await citizen.choose("Có ích"))
    await citizen.say("hương ước là gì")
    down = texts_of(await citizen.choose("Chưa đúng ý"))
    assert "ghi nhận" in down
    with runtime.db.transaction() as session:
        logged = session.scalars(select(FaqLog)).all()
    assert [(row.outcome, row.topic_id) for row in logged] == [("down", "huong_uoc_khai_niem")]
    assert logged[0].question == "hương ước là gì"


async def test_a_vague_question_gets_suggestions_to_choose_from(runtime):
    citizen = Person(runtime, "lan")
    [suggestions] = await citizen.say("khiếu nại")
    assert "Có phải bạn muốn hỏi" in suggestions.text
    topics = [o for o in suggestions.options if o.id.startswith("faq:topic:")]
    assert len(topics) == 3
    [answer] = await citizen.say("1")
    assert "Câu trả lời có giúp ích không?" in answer.text


async def test_no_answer_offers_an_officer_and_files_a_case(runtime):
    citizen = Person(runtime, "lan")
    [none] = await citizen.say("giá vàng hôm nay bao nhiêu một chỉ")
    assert "Mình chưa có câu trả lời cho câu hỏi này" in none.text
    assert "0912 345 678" in none.text  # the hotline from config.toml
    [confirmation] = await citizen.choose("Gửi câu hỏi cho cán bộ")
    assert "Mã hồ sơ: HB-2026-00001" in confirmation.text
    with runtime.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        logged = session.scalars(select(FaqLog)).one()
    assert case.kind == "phan_anh_kien_nghi"
    assert case.content == "giá vàng hôm nay bao nhiêu một chỉ"
    assert logged.outcome == "none"


async def test_a_complaint_typed_as_free_text_is_offered_as_a_case(runtime):
    citizen = Person(runtime, "lan")
    [offer] = await citizen.say("Đường trục thôn Đông bị ngập sâu, xe máy không đi được")
    assert "gửi thành phản ánh" in offer.text.lower()
    [routed] = await citizen.choose("Gửi thành phản ánh")
    assert (
        "Mình xếp hồ sơ vào: Phản ánh, kiến nghị · Giao thông, điện, nước, hạ tầng" in routed.text
    )
    await citizen.choose("Bỏ qua")
    await citizen.choose("Thôn Đông")
    await citizen.choose("ẩn danh")
    confirmation = texts_of(await citizen.choose("Gửi"))
    assert "Phòng Kinh tế" in confirmation


async def test_browsing_topics_by_group(runtime):
    citizen = Person(runtime, "lan")
    await citizen.say("/start")
    [groups] = await citizen.choose("Hỏi đáp")
    assert "Dân chủ ở cơ sở" in [o.label for o in groups.options]
    [topics] = await citizen.choose("Dân chủ ở cơ sở")
    assert len(topics.options) > 20
    [answer] = await citizen.say("1")
    assert "Câu trả lời có giúp ích không?" in answer.text


async def test_a_question_in_the_middle_of_filing_does_not_break_the_flow(runtime):
    citizen = Person(runtime, "lan")
    await citizen.say("/start")
    await citizen.choose("Gửi phản ánh")
    await citizen.choose("Khiếu nại")
    [mixed] = await citizen.say("ubnd xã tiếp dân vào ngày nào")
    assert "tiếp công dân" in mixed.text
    assert "Việc bạn phản ánh thuộc lĩnh vực nào?" in mixed.text
    await citizen.choose("Đất đai")
    [content_prompt] = citizen.transcript[-1:]
    assert "Bạn mô tả sự việc" in content_prompt.text


async def test_the_running_bot_picks_up_corpus_changes(
    config: AppConfig, clock: FakeClock, tmp_path
):
    extra = tmp_path / "commune-faq"
    extra.mkdir()
    from dataclasses import replace

    runtime = console_runtime(
        replace(config, faq=replace(config.faq, extra_corpus_dirs=(extra,))), clock
    )
    try:
        citizen = Person(runtime, "lan")
        [before] = await citizen.say("lịch thu gom rác thải của xã")
        assert "Câu trả lời có giúp ích không?" not in before.text
        (extra / "rac.toml").write_text(
            '[group]\nid = "xa_ha_bac"\ntitle = "Thông tin của xã"\n\n[[topics]]\n'
            'id = "thu_gom_rac"\ntitle = "Lịch thu gom rác"\n'
            'answer = "Xe thu gom rác đi qua các thôn vào sáng thứ Ba và thứ Sáu."\n'
            'basis = "Thông báo của UBND xã"\n'
            'questions = ["lịch thu gom rác", "mấy giờ xe rác đến", "ngày nào thu gom rác thải", '
            '"xe rac di ngay nao"]\nrelated = []\n',
            encoding="utf-8",
        )
        assert runtime.services.extras["faq"].reload_if_changed()
        [after] = await citizen.say("lịch thu gom rác thải của xã")
        assert "thứ Ba và thứ Sáu" in after.text
    finally:
        await runtime.dispatcher.stop()
        runtime.db.close()


async def test_help_lists_the_commands(runtime):
    citizen = Person(runtime, "lan")
    [help_text] = await citizen.say("/trogiup")
    for command in ("/start", "/tracuu", "/huy", "/dulieu"):
        assert command in help_text.text
    [data] = await citizen.say("/dulieu")
    assert "yêu cầu xóa" in data.text and "0912 345 678" in data.text


async def test_a_greeting_or_thanks_gets_a_polite_reply_and_the_menu(runtime):
    citizen = Person(runtime, "lan")
    [hello] = await citizen.say("chào buổi sáng")
    assert hello.text.startswith("Xin chào! Mình có thể giúp gì cho bạn?")
    assert hello.options[0].label == "Gửi phản ánh, kiến nghị"
    [thanks] = await citizen.say("cảm ơn ad nhiều nha")
    assert thanks.text.startswith("Dạ, không có gì ạ.")
    # A greeting followed by a question is a question.
    [answer] = await citizen.say("chào ad, cho hỏi hương ước là gì")
    assert answer.text.rstrip().endswith("Câu trả lời có giúp ích không?")
