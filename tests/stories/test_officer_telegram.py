"""Officers, heads and leaders working cases on Telegram (real PTB, fake Bot API server)."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Case, CaseEvent
from tests.fakes.images import jpeg_bytes
from tests.harness import TelegramUser, invite_code, sent_texts

CITIZEN = 8001
OFFICER = 8101
OTHER_OFFICER = 8102
LEADER = 8201
HEAD = 8301


async def register(user: TelegramUser, role: str, unit: str | None = None) -> str:
    code = invite_code(user.runtime, role, unit, name=user.name)
    [welcome] = await user.say(f"/dangky {code}")
    return welcome.text or ""


async def file_case(
    citizen: TelegramUser, *, kind: str, category: str, content: str, photo: bool = False
) -> str:
    await citizen.say("/start")
    await citizen.press("Gửi phản ánh")
    await citizen.press(kind)
    await citizen.press(category)
    await citizen.say(content)
    if photo:
        await citizen.send(lambda: citizen.server.add_photo(citizen.user_id, jpeg_bytes(120, 90)))
        await citizen.press("Xong")
    else:
        await citizen.press("Bỏ qua")
    await citizen.press("Thôn Đông")
    await citizen.say("Hoàng Thị Mai")
    await citizen.say("0912000111")
    [confirmation] = await citizen.press("Gửi")
    return confirmation.text or ""


async def test_officer_registers_takes_up_asks_receives_photo_and_answers(server, bot):
    officer = TelegramUser(server, bot, OFFICER, "Kế")
    welcome = await register(officer, "officer", "kinh_te")
    assert "Đăng ký thành công: bạn là cán bộ – Phòng Kinh tế" in welcome

    citizen = TelegramUser(server, bot, CITIZEN, "Mai")
    await file_case(
        citizen,
        kind="Phản ánh",
        category="Đất đai",
        content="Nhà bên cạnh xây tường lấn sang đất nhà tôi khoảng nửa mét.",
        photo=True,
    )
    # The officer is told at once, with the summary, the photo and the deadline.
    notice = [m for m in officer.received if "Hồ sơ mới HB-2026-00001" in (m.text or "")]
    assert len(notice) == 1
    assert "Hoàng Thị Mai – 0912000111" in (notice[0].text or "")
    assert "Hạn giải quyết: 08/12/2026" in (notice[0].text or "")
    assert any(m.method == "sendPhoto" for m in officer.received)

    [opened] = await officer.press("Tiếp nhận")
    assert "Đã tiếp nhận hồ sơ" in (opened.text or "")
    assert "đã được Phòng Kinh tế tiếp nhận" in (citizen.last.text or "")

    await officer.press("Hỏi thêm")
    [sent] = await officer.say("Anh/chị chụp giúp ảnh mốc ranh giới giữa hai nhà.")
    assert "Đã gửi câu hỏi" in (sent.text or "")
    question = citizen.last.text or ""
    assert "cần bạn bổ sung thông tin cho hồ sơ HB-2026-00001" in question
    assert "mốc ranh giới" in question

    await citizen.send(lambda: server.add_photo(CITIZEN, jpeg_bytes(160, 120), caption="Mốc đây ạ"))
    relayed = [m for m in officer.received if "đã bổ sung thông tin" in (m.text or "")]
    assert relayed and "Mốc đây ạ" in (relayed[-1].text or "")
    photos_to_officer = [m for m in officer.received if m.method == "sendPhoto"]
    assert len(photos_to_officer) == 2

    await officer.press("Trả lời")
    [preview] = await officer.say("Xã đã kiểm tra, yêu cầu hộ bên cạnh tháo dỡ phần tường lấn.")
    assert "Gửi cho người dân?" in (preview.text or "")
    [done] = await officer.press("Gửi")
    assert "Đã trả lời" in (done.text or "")
    answer = citizen.last
    assert "Trả lời hồ sơ HB-2026-00001 của Phòng Kinh tế" in (answer.text or "")
    assert "Bạn có hài lòng" in (answer.text or "")
    assert [label for label, _ in answer.buttons] == ["Rất hài lòng", "Hài lòng", "Chưa hài lòng"]

    with bot.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.status == "answered"
        kinds = [
            e.kind
            for e in session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        ]
        actors = {
            e.kind: e.actor_id
            for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
        }
    assert kinds == ["created", "opened", "info_requested", "citizen_replied", "answered"]
    assert actors["opened"] == actors["answered"] != actors["created"]


async def test_commands_of_staff_are_refused_to_citizens(server, bot):
    citizen = TelegramUser(server, bot, CITIZEN)
    [refusal] = await citizen.say("/viec")
    assert "chỉ dành cho cán bộ" in (refusal.text or "")
    [wrong] = await citizen.say("/dangky ABCD-EFGH")
    assert "Mã mời không đúng" in (wrong.text or "")


async def test_invite_is_single_use(server, bot):
    officer = TelegramUser(server, bot, OFFICER)
    code = invite_code(bot, "officer", "vhxh")
    await officer.say(f"/dangky {code}")
    other = TelegramUser(server, bot, OTHER_OFFICER)
    [used] = await other.say(f"/dangky {code.lower()}")
    assert "đã được dùng" in (used.text or "")


async def test_transfer_to_another_unit(server, bot):
    officer = TelegramUser(server, bot, OFFICER)
    await register(officer, "officer", "kinh_te")
    vhxh = TelegramUser(server, bot, OTHER_OFFICER)
    await register(vhxh, "officer", "vhxh")
    citizen = TelegramUser(server, bot, CITIZEN)
    await file_case(
        citizen,
        kind="Phản ánh",
        category="Môi trường",
        content="Hộ nghèo thôn Đông chưa nhận được gạo hỗ trợ dịp lũ.",
    )
    await officer.press("Xem chi tiết")
    await officer.press("Chuyển đơn vị")
    await officer.press("Văn hóa - Xã hội")
    [done] = await officer.say("Việc trợ cấp thuộc Phòng Văn hóa - Xã hội.")
    assert "Đã chuyển hồ sơ HB-2026-00001 cho Phòng Văn hóa - Xã hội" in (done.text or "")
    assert "đã được chuyển đến Phòng Văn hóa - Xã hội" in (citizen.last.text or "")
    assert any("Hồ sơ mới HB-2026-00001" in (m.text or "") for m in vhxh.received)
    [listing] = await vhxh.say("/viec")
    assert any("HB-2026-00001" in label for label, _ in listing.buttons)


async def test_forward_outside_the_commune_and_reject(server, bot):
    officer = TelegramUser(server, bot, OFFICER)
    await register(officer, "officer", "kinh_te")
    citizen = TelegramUser(server, bot, CITIZEN)
    await file_case(
        citizen,
        kind="Phản ánh",
        category="Giao thông",
        content="Quốc lộ 5 đoạn qua xã có ổ gà lớn.",
    )
    await file_case(
        citizen,
        kind="Phản ánh",
        category="Giao thông",
        content="Quốc lộ 5 đoạn qua xã có ổ gà lớn, gửi lại lần hai.",
    )
    await officer.say("/tracuu HB-2026-00001")
    await officer.press("ngoài xã")
    [done] = await officer.say("Sở Xây dựng tỉnh Hải Dương")
    assert "Đã ghi nhận chuyển hồ sơ HB-2026-00001 đến Sở Xây dựng" in (done.text or "")
    assert "thuộc thẩm quyền của Sở Xây dựng tỉnh Hải Dương" in (citizen.last.text or "")

    await officer.say("/tracuu HB-2026-00002")
    await officer.press("Không xử lý")
    await officer.press("Trùng")
    await officer.say("Trùng hồ sơ HB-2026-00001.")
    assert "Lý do: Trùng với hồ sơ đã có" in (citizen.last.text or "")
    with bot.db.transaction() as session:
        statuses = dict(session.execute(select(Case.code, Case.status)).all())
    assert statuses == {"HB-2026-00001": "forwarded", "HB-2026-00002": "rejected"}


async def test_extension_approved_by_a_leader(server, bot):
    officer = TelegramUser(server, bot, OFFICER)
    await register(officer, "officer", "kinh_te")
    leader = TelegramUser(server, bot, LEADER, "Chủ tịch")
    await register(leader, "leader")
    citizen = TelegramUser(server, bot, CITIZEN)
    await file_case(
        citizen,
        kind="Phản ánh",
        category="Nông nghiệp",
        content="Mương nội đồng thôn Đông bị bồi lấp, cần nạo vét.",
    )
    await officer.press("Tiếp nhận")
    await officer.press("gia hạn")
    await officer.say("Cần chờ đơn vị thi công khảo sát.")
    [too_far] = await officer.say("30/01/2027")
    assert "vượt quá mức được gia hạn" in (too_far.text or "")
    [requested] = await officer.say("18/12/2026")
    assert "Đã gửi đề nghị gia hạn" in (requested.text or "")
    request = leader.last
    assert "Đề nghị gia hạn hồ sơ HB-2026-00001" in (request.text or "")
    assert "08/12/2026 → đề nghị: 18/12/2026" in (request.text or "")
    [decided] = await leader.press("Đồng ý")
    assert "Đã đồng ý gia hạn" in (decided.text or "")
    assert "được gia hạn thời hạn giải quyết đến 18/12/2026" in (citizen.last.text or "")
    assert "Hạn mới: 18/12/2026" in (officer.last.text or "")
    # Pressing the same button again changes nothing.
    approve = next(data for label, data in request.buttons if label == "Đồng ý gia hạn")
    [again] = await leader.send(
        lambda: server.press_button(LEADER, approve, message_id=request.message_id)
    )
    assert "đã được xử lý trước đó" in (again.text or "")
    with bot.db.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.extensions == 1


async def test_denunciation_never_shows_the_whistleblower_to_the_officer(server, bot):
    officer = TelegramUser(server, bot, OFFICER)
    await register(officer, "officer", "van_phong")
    leader = TelegramUser(server, bot, LEADER)
    await register(leader, "leader")
    citizen = TelegramUser(server, bot, CITIZEN, "Mai")
    await file_case(
        citizen,
        kind="Tố cáo",
        category="Chính sách xã hội",
        content="Cán bộ thôn thu tiền của các hộ để đưa vào danh sách hộ nghèo.",
    )
    await officer.press("Tiếp nhận")
    await officer.press("Hỏi thêm")
    await officer.say("Đề nghị cung cấp thời gian, số tiền đã nộp.")
    await citizen.say("Tháng 9, mỗi hộ 2 triệu đồng.")
    await officer.say("/tracuu HB-2026-00001")
    await officer.press("Trả lời")
    await officer.say("UBND xã đã tiếp nhận, đang xác minh theo quy định.")
    await officer.press("Gửi")

    # Nothing the officer ever received carries the name, phone or chat identity.
    for message in officer.received:
        blob = (message.text or "") + str(message.reply_markup or "")
        for secret in ("Hoàng Thị Mai", "0912000111", "Mai", str(CITIZEN)):
            assert secret not in blob, f"{secret!r} leaked in {message.describe()}"
    assert any("Được giữ bí mật" in (m.text or "") for m in officer.received)
    assert "Tháng 9, mỗi hộ 2 triệu đồng" in sent_texts(officer.received)
    # The citizen never learns who the officer is either.
    for message in citizen.received:
        assert "Kế" not in (message.text or "") and str(OFFICER) not in (message.text or "")

    # A leader may reveal the identity; the look is logged.
    [view] = await leader.say("/tracuu HB-2026-00001")
    assert all("danh tính" not in label for label, _ in officer.received[-1].buttons)
    [revealed] = await leader.press("danh tính")
    assert "Hoàng Thị Mai – 0912000111" in (revealed.text or "")
    with bot.db.transaction() as session:
        reveals = session.scalars(
            select(CaseEvent).where(CaseEvent.kind == "identity_revealed")
        ).all()
    assert len(reveals) == 1
    assert view.text


async def test_free_text_land_complaint_is_routed_to_kinh_te(server, bot):
    officer = TelegramUser(server, bot, OFFICER)
    await register(officer, "officer", "kinh_te")
    citizen = TelegramUser(server, bot, CITIZEN)
    await citizen.say("/start")
    [question] = await citizen.press("Gửi phản ánh")
    assert "Bạn muốn phản ánh việc gì?" in (question.text or "")
    [routed] = await citizen.say(
        "Nha ben canh xay tuong lan sang dat nha toi gan 1 met, de nghi xa xuong kiem tra"
    )
    assert "Mình xếp hồ sơ vào: Phản ánh, kiến nghị · Đất đai (Phòng Kinh tế)" in (
        routed.text or ""
    )
    assert "ảnh" in (routed.text or "")
    await citizen.press("Bỏ qua")
    await citizen.press("Thôn Đông")
    await citizen.press("ẩn danh")
    [confirmation] = await citizen.press("Gửi")
    assert "Đơn vị xử lý: Phòng Kinh tế" in (confirmation.text or "")
    assert any("Hồ sơ mới HB-2026-00001" in (m.text or "") for m in officer.received)
    with bot.db.transaction() as session:
        case = session.scalars(select(Case)).one()
    assert (case.kind, case.category, case.unit) == ("phan_anh_kien_nghi", "dat_dai", "kinh_te")
    assert case.routing_confidence is not None


async def test_unclear_text_lets_the_citizen_pick(server, bot):
    citizen = TelegramUser(server, bot, CITIZEN)
    await citizen.say("/start")
    await citizen.press("Gửi phản ánh")
    [ask_kind] = await citizen.say("Tôi muốn hỏi xã về việc của gia đình tôi ạ")
    assert "chưa chắc việc này thuộc loại nào" in (ask_kind.text or "")
    await citizen.press("Phản ánh")
    [photos] = await citizen.press("Khác")
    assert "ảnh" in (photos.text or ""), "the description is not asked again"
