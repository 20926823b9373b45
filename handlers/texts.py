"""Every text a person reads, in one place: short, polite Vietnamese with correct diacritics.

Functions take plain values (no ORM objects) so the wording can be reviewed and tested alone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

# ----------------------------------------------------------------------------- labels

KIND_LABELS = {
    "phan_anh_kien_nghi": "Phản ánh, kiến nghị",
    "khieu_nai": "Khiếu nại",
    "to_cao": "Tố cáo",
}

KIND_EXPLANATIONS = {
    "phan_anh_kien_nghi": "báo một việc chưa ổn hoặc góp ý, đề xuất với xã (ví dụ đường hỏng, "
    "rác thải, hồ sơ chậm)",
    "khieu_nai": "đề nghị xem xét lại một quyết định hoặc việc làm của UBND xã, cán bộ xã mà bạn "
    "cho là sai và ảnh hưởng đến quyền lợi của bạn",
    "to_cao": "báo cho cơ quan có thẩm quyền biết hành vi vi phạm pháp luật của cán bộ hoặc "
    "bất kỳ ai (ví dụ nhận tiền, ăn chặn chế độ)",
}

STATUS_LABELS = {
    "new": "Đã gửi, chờ tiếp nhận",
    "open": "Đang xử lý",
    "waiting_citizen": "Chờ bạn bổ sung thông tin",
    "answered": "Đã trả lời",
    "forwarded": "Đã chuyển cơ quan có thẩm quyền",
    "rejected": "Không xử lý",
    "closed": "Đã kết thúc",
}

EVENT_LABELS = {
    "created": "Đã nhận hồ sơ",
    "opened": "Cán bộ đã tiếp nhận",
    "info_requested": "Cán bộ đề nghị bổ sung thông tin",
    "citizen_replied": "Bạn đã bổ sung thông tin",
    "answered": "Đã trả lời",
    "transferred": "Chuyển đơn vị xử lý",
    "forwarded": "Chuyển cơ quan có thẩm quyền",
    "rejected": "Không xử lý",
    "extended": "Gia hạn thời hạn giải quyết",
    "rated": "Bạn đã đánh giá",
    "reopened": "Mở lại để xử lý tiếp",
    "closed": "Kết thúc",
}

# ----------------------------------------------------------------------------- menu

MENU_FILE = "Gửi phản ánh, kiến nghị"
MENU_FAQ = "Hỏi đáp"
MENU_TRACK = "Tra cứu hồ sơ"
MENU_MINE = "Phản ánh của tôi"

CONTINUE_DRAFT = "Tiếp tục hồ sơ đang soạn"
NEW_DRAFT = "Soạn hồ sơ mới"
DONE = "Xong"
SKIP = "Bỏ qua"
SEND = "Gửi"
EDIT = "Sửa"
CANCEL = "Hủy"
BACK_TO_MENU = "Về menu chính"
TYPE_ADDRESS = "Nhập địa chỉ khác"
ANONYMOUS = "Gửi ẩn danh"
USE_SAVED_CONTACT = "Dùng thông tin đã lưu"
TRUNCATE_TEXT = "Dùng phần đầu (cắt bớt)"


def greeting(commune_name: str, person_name: str | None) -> str:
    hello = f"Xin chào {person_name}!" if person_name else "Xin chào!"
    return (
        f"{hello} Đây là kênh tiếp nhận phản ánh, kiến nghị của {commune_name}.\n"
        "Bạn có thể gửi phản ánh, hỏi đáp về dân chủ ở cơ sở và theo dõi hồ sơ của mình."
    )


def privacy_notice(authority: str, retention: str) -> str:
    return (
        "🔒 Về dữ liệu cá nhân: khi bạn gửi hồ sơ, chúng tôi ghi lại nội dung, ảnh, địa điểm và "
        "(nếu bạn cung cấp) họ tên, số điện thoại để tiếp nhận, giải quyết và trả lời bạn. "
        f"Đơn vị chịu trách nhiệm: {authority}. Dữ liệu được lưu {retention}. "
        "Người tố cáo được giữ bí mật danh tính. Để xem, sửa hoặc yêu cầu xóa dữ liệu, gõ /dulieu."
    )


def privacy_details(authority: str, retention: str, hotline: str, one_stop_desk: str) -> str:
    return (
        "Dữ liệu cá nhân trong kênh phản ánh, kiến nghị\n"
        "• Thu thập: nội dung bạn gửi, ảnh (đã xóa thông tin vị trí trong ảnh), địa điểm, họ tên "
        "và số điện thoại nếu bạn cung cấp, mã tài khoản trò chuyện để trả lời bạn.\n"
        "• Mục đích: tiếp nhận, chuyển đơn vị có trách nhiệm, giải quyết và trả lời phản ánh, "
        "kiến nghị, khiếu nại, tố cáo; thống kê không kèm danh tính.\n"
        f"• Đơn vị chịu trách nhiệm: {authority}.\n"
        f"• Thời gian lưu: {retention}.\n"
        "• Quyền của bạn: được biết, xem, sửa, yêu cầu xóa hoặc hạn chế xử lý dữ liệu. "
        "Dữ liệu của hồ sơ đang giải quyết có thể chưa xóa được cho đến khi giải quyết xong.\n"
        f"• Cách yêu cầu: gọi {hotline} hoặc đến {one_stop_desk}. "
        "Yêu cầu được xác nhận trong 02 ngày làm việc.\n"
        "• Vui lòng không gửi ảnh căn cước công dân qua kênh này."
    )


MENU_PROMPT = "Bạn muốn làm gì? Chọn một mục bên dưới."

HELP = (
    "Các lệnh bạn có thể dùng:\n"
    "/start – menu chính\n"
    "/tracuu MÃ – tra cứu hồ sơ, ví dụ /tracuu HB-2026-00042\n"
    "/huy – hủy việc đang làm\n"
    "/dulieu – dữ liệu cá nhân và cách yêu cầu xóa\n"
    "/trogiup – xem hướng dẫn này\n"
    "Bạn cũng có thể gõ câu hỏi bằng lời của mình, có dấu hoặc không dấu đều được."
)

NOT_UNDERSTOOD = "Xin lỗi, mình chưa hiểu ý bạn. Bạn chọn một mục bên dưới nhé."
SMALL_TALK_GREETING = (
    "Xin chào! Mình có thể giúp gì cho bạn? Chọn một mục bên dưới hoặc gõ câu hỏi."
)
SMALL_TALK_THANKS = "Dạ, không có gì ạ. Bạn cần gì thêm thì cứ nhắn cho mình nhé."
CANCELLED = "Đã hủy. Hồ sơ đang soạn (nếu có) đã được xóa."
NOTHING_TO_CANCEL = "Hiện không có việc gì đang làm để hủy."
STALE_OPTION = "Lựa chọn này không còn dùng được. Bạn xem câu hỏi mới nhất giúp mình nhé."
SYSTEM_ERROR = (
    "Xin lỗi, hệ thống đang gặp sự cố khi xử lý tin nhắn vừa rồi. Những gì bạn đã gửi trước đó "
    "vẫn được giữ nguyên. Bạn vui lòng gửi lại sau ít phút."
)
UNKNOWN_COMMAND = "Mình chưa biết lệnh này. Gõ /trogiup để xem các lệnh."

# ----------------------------------------------------------------------------- unsupported input

UNSUPPORTED = {
    "sticker": "Mình đã nhận nhãn dán 🙂 nhưng chưa hiểu được nó.",
    "voice": "Xin lỗi, mình chưa nghe được tin nhắn thoại. Bạn vui lòng gõ chữ giúp mình.",
    "video": "Xin lỗi, mình chưa nhận được video. Bạn có thể gửi ảnh chụp thay thế.",
    "document": "Xin lỗi, mình chỉ nhận ảnh (JPG, PNG). Tệp này chưa mở được.",
    "other": "Xin lỗi, mình chưa đọc được loại tin nhắn này. Bạn vui lòng gõ chữ hoặc gửi ảnh.",
}

PHOTO_NOT_EXPECTED = "Mình đã nhận ảnh, nhưng ở bước này mình cần bạn trả lời câu hỏi dưới đây."
PHOTO_NOT_AN_IMAGE = "Tệp ảnh này bị lỗi hoặc không phải ảnh. Bạn chụp lại và gửi giúp mình nhé."
PHOTO_UNSUPPORTED_FORMAT = "Định dạng ảnh này chưa hỗ trợ. Bạn vui lòng gửi ảnh JPG hoặc PNG."
PHOTO_DOWNLOAD_FAILED = "Mình chưa tải được ảnh này. Bạn vui lòng gửi lại ảnh."


def photo_too_large(limit_mb: float) -> str:
    return (
        f"Ảnh lớn quá (tối đa {limit_mb:g} MB). Bạn gửi ảnh nhỏ hơn, hoặc gửi dạng ảnh thường "
        "(không gửi dạng tệp) giúp mình."
    )


def too_many_photos(limit: int) -> str:
    return f"Mỗi hồ sơ gửi được tối đa {limit} ảnh. Ảnh vừa rồi chưa được thêm."


# ----------------------------------------------------------------------------- intake flow


def resume_draft_prompt(kind_label: str | None, saved_at: str) -> str:
    what = f" ({kind_label.lower()})" if kind_label else ""
    return f"Bạn có hồ sơ đang soạn dở{what}, lưu lúc {saved_at}. Tiếp tục hồ sơ đang soạn?"


def ask_kind(explanations: dict[str, str], *, have_content: bool = False) -> str:
    if have_content:
        lines = ["Mình chưa chắc việc này thuộc loại nào. Bạn chọn giúp mình:"]
    else:
        lines = [
            "Bạn muốn phản ánh việc gì? Bạn gõ luôn nội dung sự việc, mình sẽ chuyển đúng nơi "
            "xử lý. Hoặc chọn loại hồ sơ:"
        ]
    for kind, label in KIND_LABELS.items():
        lines.append(f"• {label}: {explanations[kind]}.")
    return "\n".join(lines)


def routed(kind_label: str, category_label: str, unit_name: str) -> str:
    return (
        f"Mình xếp hồ sơ vào: {kind_label} · {category_label} ({unit_name}). "
        "Nếu chưa đúng, bạn sửa được ở bước cuối."
    )


ASK_CATEGORY = "Việc bạn phản ánh thuộc lĩnh vực nào?"


def ask_content(min_length: int, max_length: int) -> str:
    return (
        "Bạn mô tả sự việc giúp mình: việc gì, ở đâu, từ khi nào, ảnh hưởng thế nào "
        f"(từ {min_length} đến {max_length} ký tự)."
    )


def content_too_short(min_length: int) -> str:
    return f"Nội dung ngắn quá. Bạn viết rõ hơn giúp mình (ít nhất {min_length} ký tự)."


def content_too_long(max_length: int, length: int) -> str:
    return (
        f"Nội dung dài {length} ký tự, quá giới hạn {max_length} ký tự. Mình đã lưu tạm nội dung "
        "bạn gửi. Bạn gửi lại bản ngắn gọn hơn, hoặc chọn dùng phần đầu."
    )


CONTENT_EMPTY = "Mình chưa nhận được nội dung. Bạn gõ mô tả sự việc bằng chữ giúp mình."


def ask_photos(max_photos: int, count: int) -> str:
    if count:
        return f"Đã nhận {count} ảnh. Bạn gửi thêm ảnh (tối đa {max_photos}) hoặc bấm «{DONE}»."
    return (
        f"Bạn có ảnh chụp sự việc không? Gửi ảnh (tối đa {max_photos} ảnh), "
        f"hoặc bấm «{SKIP}» nếu không có. Vui lòng không gửi ảnh căn cước công dân."
    )


def photo_received(count: int, max_photos: int) -> str:
    return f"Đã nhận ảnh {count}/{max_photos}. Gửi thêm ảnh hoặc bấm «{DONE}»."


PHOTOS_EXPECTED = f"Ở bước này bạn gửi ảnh, hoặc bấm «{DONE}» / «{SKIP}» để tiếp tục."

ASK_PLACE = (
    "Sự việc xảy ra ở đâu? Chọn thôn / tổ dân phố, gõ địa chỉ cụ thể, hoặc gửi vị trí "
    "(Telegram: 📎 → Vị trí)."
)
ASK_ADDRESS = "Bạn gõ địa chỉ cụ thể giúp mình (số nhà, đường, xóm…)."
ADDRESS_TOO_LONG = "Địa chỉ dài quá (tối đa 300 ký tự). Bạn gõ ngắn gọn hơn giúp mình."


def ask_contact_name(kind: str) -> str:
    if kind == "khieu_nai":
        return (
            "Bạn cho biết họ và tên. Khiếu nại phải có họ tên, địa chỉ của người khiếu nại "
            "thì mới được xem xét (Luật Khiếu nại, Điều 8)."
        )
    if kind == "to_cao":
        return (
            "Bạn cho biết họ và tên. Tố cáo phải có họ tên, địa chỉ của người tố cáo thì mới "
            "được thụ lý (Luật Tố cáo, Điều 23). Danh tính của bạn được giữ bí mật: cán bộ xác "
            "minh không được xem (Luật Tố cáo, Điều 47)."
        )
    return (
        "Bạn cho biết họ và tên để cán bộ liên hệ khi cần. Nếu không muốn, bạn có thể "
        f"chọn «{ANONYMOUS}» (khi đó cán bộ không gọi lại được để hỏi thêm)."
    )


NAME_INVALID = (
    "Họ tên chưa hợp lệ. Bạn gõ họ và tên đầy đủ bằng chữ giúp mình (ví dụ: Nguyễn Văn An)."
)
ANONYMOUS_NOT_ALLOWED = (
    "Khiếu nại, tố cáo không thể gửi ẩn danh: đơn không có họ tên, địa chỉ sẽ không được "
    "thụ lý theo luật. Bạn vui lòng cho biết họ tên."
)

ASK_PHONE = "Bạn cho biết số điện thoại di động (ví dụ 0912 345 678 hoặc +84 912 345 678)."
PHONE_INVALID = (
    "Số điện thoại chưa đúng. Bạn gõ số di động Việt Nam gồm 10 chữ số, bắt đầu bằng 0 "
    "(ví dụ 0912345678) hoặc +84."
)


def saved_contact(name: str, phone: str) -> str:
    return f"Lần trước bạn để lại: {name}, {phone}. Dùng lại thông tin này?"


def complaint_form_note(kind: str) -> str | None:
    if kind == "khieu_nai":
        return (
            "Lưu ý: để khiếu nại được thụ lý chính thức, bạn cần có đơn ghi rõ ngày tháng, họ tên, "
            "địa chỉ, nội dung, có chữ ký hoặc điểm chỉ, hoặc trình bày trực tiếp tại UBND xã "
            "(Luật Khiếu nại, Điều 8 và 11). Hồ sơ gửi qua đây giúp cán bộ chuẩn bị và hẹn bạn."
        )
    if kind == "to_cao":
        return (
            "Lưu ý: đơn tố cáo cần có chữ ký hoặc điểm chỉ của người tố cáo (Luật Tố cáo, Điều 23). "
            "Cán bộ sẽ hướng dẫn bạn hoàn thiện; danh tính của bạn được giữ bí mật."
        )
    return None


def summary(
    *,
    kind_label: str,
    category_label: str,
    content: str,
    photos: int,
    place: str | None,
    contact: str | None,
) -> str:
    return (
        "Bạn kiểm tra lại hồ sơ:\n"
        f"• Loại: {kind_label}\n"
        f"• Lĩnh vực: {category_label}\n"
        f"• Nội dung: {content}\n"
        f"• Ảnh: {photos}\n"
        f"• Địa điểm: {place or 'không nêu'}\n"
        f"• Người gửi: {contact or 'ẩn danh'}\n"
        f"Bấm «{SEND}» để gửi, «{EDIT}» để sửa, «{CANCEL}» để hủy."
    )


ASK_EDIT_FIELD = "Bạn muốn sửa mục nào?"
EDIT_FIELDS = {
    "kind": "Loại",
    "category": "Lĩnh vực",
    "content": "Nội dung",
    "photos": "Ảnh",
    "place": "Địa điểm",
    "contact": "Người gửi",
}
CHOOSE_FROM_OPTIONS = "Bạn chọn một mục trong danh sách giúp mình nhé."


def daily_limit_reached(limit: int) -> str:
    return (
        f"Hôm nay bạn đã gửi {limit} hồ sơ, là mức tối đa trong một ngày. Bạn vui lòng gửi tiếp "
        "vào ngày mai, hoặc gọi đường dây nóng nếu việc gấp."
    )


def case_received(
    *,
    code: str,
    unit_name: str,
    due_label: str,
    due_date: str,
    limit_text: str,
    note: str | None,
) -> str:
    text = (
        f"✅ Đã nhận hồ sơ của bạn. Mã hồ sơ: {code}\n"
        f"Đơn vị xử lý: {unit_name}\n"
        f"{due_label}: {due_date} ({limit_text})\n"
        f"Tra cứu bất cứ lúc nào: /tracuu {code}"
    )
    if note:
        text += "\n" + note
    return text


DUE_LABEL_ANSWER = "Hạn trả lời dự kiến"
DUE_LABEL_ACCEPT_KN = "Hạn thông báo thụ lý hoặc không thụ lý"
DUE_LABEL_ACCEPT_TC = "Hạn xử lý ban đầu đơn tố cáo"

# ----------------------------------------------------------------------------- tracking

ASK_CODE = "Bạn gõ mã hồ sơ cần tra cứu (ví dụ HB-2026-00042)."


def case_not_found(code: str) -> str:
    return (
        f"Không tìm thấy hồ sơ {code} của bạn. Bạn kiểm tra lại mã, hoặc chọn «{MENU_MINE}» "
        "để xem các hồ sơ bạn đã gửi."
    )


CODE_INVALID = "Mã hồ sơ chưa đúng dạng. Mã có dạng HB-2026-00042."


def case_status(
    *,
    code: str,
    kind_label: str,
    category_label: str,
    status_label: str,
    unit_name: str,
    created: str,
    due: str,
    history: list[str],
    extra: str | None = None,
) -> str:
    lines = [
        f"Hồ sơ {code} ({kind_label} – {category_label})",
        f"Trạng thái: {status_label}",
        f"Đơn vị xử lý: {unit_name}",
        f"Ngày gửi: {created}",
        f"Hạn giải quyết: {due}",
    ]
    if extra:
        lines.append(extra)
    if history:
        lines.append("Diễn biến:")
        lines.extend(f"• {item}" for item in history)
    return "\n".join(lines)


NO_CASES_YET = f"Bạn chưa gửi hồ sơ nào. Chọn «{MENU_FILE}» để gửi."


def my_cases_header(count: int) -> str:
    return f"Bạn có {count} hồ sơ gần đây. Chọn một hồ sơ để xem chi tiết:"


def my_case_line(code: str, status_label: str) -> str:
    return f"{code} – {status_label}"


# ----------------------------------------------------------------------------- formatting


def place_text(
    village: str | None, address: str | None, latitude: float | None, longitude: float | None
) -> str | None:
    if village:
        return village
    if address:
        return address
    if latitude is not None and longitude is not None:
        return f"vị trí đã gửi ({latitude:.5f}, {longitude:.5f})"
    return None


def local_date(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d/%m/%Y")


def local_datetime(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%H:%M %d/%m/%Y")


# ----------------------------------------------------------------------------- people and roles

ROLE_LABELS = {
    "officer": "cán bộ",
    "head": "lãnh đạo đơn vị",
    "leader": "lãnh đạo UBND xã",
    "admin": "quản trị hệ thống",
}


def registered(role_label: str, unit_name: str | None) -> str:
    where = f" – {unit_name}" if unit_name else ""
    return (
        f"Đăng ký thành công: bạn là {role_label}{where}.\n"
        "Gõ /viec để xem các hồ sơ cần xử lý, /trogiup để xem hướng dẫn."
    )


INVITE_USAGE = "Bạn gõ /dangky kèm mã mời do quản trị viên cấp, ví dụ: /dangky K7P4-QX2M"
INVITE_UNKNOWN = "Mã mời không đúng. Bạn kiểm tra lại mã hoặc liên hệ quản trị viên."
INVITE_EXPIRED = "Mã mời đã hết hạn. Bạn liên hệ quản trị viên để được cấp mã mới."
INVITE_USED = "Mã mời này đã được dùng. Mỗi mã chỉ dùng được một lần."
NOT_ALLOWED = "Xin lỗi, chức năng này chỉ dành cho cán bộ được phân công."
STAFF_HELP = (
    "Lệnh dành cho cán bộ:\n"
    "/viec – hồ sơ của đơn vị đang chờ xử lý (quá hạn lên đầu)\n"
    "/tracuu MÃ – xem một hồ sơ\n"
    "/huy – hủy thao tác đang làm"
)
LEADER_HELP = (
    "\n/thongke tuan|thang|quy|nam hoặc 2026-10-01..2026-10-31 – số liệu\n"
    "/baocao KỲ – tệp báo cáo, ví dụ /baocao 2026-6thang"
)

# ----------------------------------------------------------------------------- officer work

OFFICER_OPTIONS = {
    "open": "Tiếp nhận",
    "view": "Xem chi tiết",
    "ask": "Hỏi thêm người gửi",
    "answer": "Trả lời người gửi",
    "transfer": "Chuyển đơn vị khác",
    "forward": "Chuyển cơ quan ngoài xã",
    "reject": "Không xử lý",
    "extend": "Xin gia hạn",
    "reveal": "Xem danh tính người tố cáo",
    "list": "Danh sách việc",
}

REJECT_REASONS = {
    "duplicate": "Trùng với hồ sơ đã có",
    "not_competent": "Không thuộc thẩm quyền của xã",
    "abusive": "Nội dung xúc phạm, không đúng mục đích",
}

CONFIDENTIAL_SENDER = "Được giữ bí mật (đơn tố cáo)"
ANONYMOUS_SENDER = "Ẩn danh"
NO_OPEN_CASES = "Đơn vị hiện không có hồ sơ nào đang chờ xử lý. 👍"


def work_list_header(unit_names: str, count: int) -> str:
    return f"Hồ sơ đang chờ xử lý ({unit_names}): {count}. Quá hạn ở đầu danh sách."


def work_list_line(code: str, due: str, overdue: bool) -> str:
    return f"{'⚠️ ' if overdue else ''}{code} · hạn {due}"


def new_case_notice(
    *,
    code: str,
    kind_label: str,
    category_label: str,
    unit_name: str,
    content: str,
    place: str | None,
    sender: str,
    open_due: str,
    answer_due: str,
    photos: int,
) -> str:
    return (
        f"📥 Hồ sơ mới {code} – {unit_name}\n"
        f"Loại: {kind_label} · Lĩnh vực: {category_label}\n"
        f"Người gửi: {sender}\n"
        f"Địa điểm: {place or 'không nêu'}\n"
        f"Ảnh: {photos}\n"
        f"Nội dung: {content}\n"
        f"Hạn tiếp nhận: {open_due} · Hạn giải quyết: {answer_due}"
    )


def officer_case_view(
    *,
    code: str,
    kind_label: str,
    category_label: str,
    unit_name: str,
    status_label: str,
    received: str,
    due: str,
    due_note: str,
    sender: str,
    place: str | None,
    content: str,
    photos: int,
    history: list[str],
) -> str:
    lines = [
        f"Hồ sơ {code} – {kind_label} – {category_label}",
        f"Đơn vị: {unit_name} · Trạng thái: {status_label}",
        f"Nhận lúc: {received} · Hạn giải quyết: {due} ({due_note})",
        f"Người gửi: {sender}",
        f"Địa điểm: {place or 'không nêu'} · Ảnh: {photos}",
        f"Nội dung: {content}",
    ]
    if history:
        lines.append("Diễn biến:")
        lines.extend(f"• {item}" for item in history)
    return "\n".join(lines)


def due_note(working_days_left: int, working_days_late: int) -> str:
    if working_days_late > 0:
        return f"quá hạn {working_days_late} ngày làm việc"
    if working_days_left == 0:
        return "hạn là hôm nay"
    return f"còn {working_days_left} ngày làm việc"


def case_opened_for_citizen(code: str, unit_name: str, due: str) -> str:
    return f"Hồ sơ {code} đã được {unit_name} tiếp nhận và đang xử lý. Hạn trả lời: {due}."


CASE_OPENED = "Đã tiếp nhận hồ sơ. Bạn chọn việc tiếp theo:"
ASK_QUESTION = "Bạn nhập câu hỏi để gửi người dân (có thể gửi kèm ảnh):"
QUESTION_SENT = "Đã gửi câu hỏi cho người dân. Khi người dân trả lời, mình sẽ báo bạn."


def question_for_citizen(code: str, unit_name: str, question: str) -> str:
    return (
        f"Cán bộ {unit_name} cần bạn bổ sung thông tin cho hồ sơ {code}:\n"
        f"«{question}»\n"
        "Bạn trả lời bằng cách gõ tin nhắn hoặc gửi ảnh ngay tại đây."
    )


CITIZEN_REPLY_THANKS = "Cảm ơn bạn. Thông tin bổ sung đã được chuyển cho cán bộ xử lý."
CITIZEN_REPLY_EMPTY = "Bạn gõ nội dung trả lời hoặc gửi ảnh giúp mình."
REPLY_TO_OFFICER = "Trả lời cán bộ"


def citizen_replied_notice(code: str, text: str | None, photos: int) -> str:
    parts = [f"💬 Người gửi đã bổ sung thông tin cho hồ sơ {code}:"]
    if text:
        parts.append(f"«{text}»")
    if photos:
        parts.append(f"Kèm {photos} ảnh.")
    return "\n".join(parts)


ASK_ANSWER = (
    "Bạn nhập nội dung trả lời người dân (ngắn gọn, rõ ràng). Có thể gửi kèm ảnh trước khi "
    "nhập nội dung."
)


def answer_preview(code: str, text: str, photos: int) -> str:
    extra = f"\nKèm {photos} ảnh." if photos else ""
    return f"Xem lại câu trả lời cho hồ sơ {code}:\n«{text}»{extra}\nGửi cho người dân?"


ANSWER_SENT = "Đã gửi câu trả lời cho người dân. Hồ sơ chuyển sang «Đã trả lời»."


def answer_for_citizen(code: str, unit_name: str, text: str) -> str:
    return f"📩 Trả lời hồ sơ {code} của {unit_name}:\n«{text}»"


RATING_QUESTION = "Bạn có hài lòng với kết quả giải quyết không?"
RATING_LABELS = {
    "rat_hai_long": "Rất hài lòng",
    "hai_long": "Hài lòng",
    "chua_hai_long": "Chưa hài lòng",
}

ASK_TRANSFER_UNIT = "Chuyển hồ sơ cho đơn vị nào?"
ASK_TRANSFER_REASON = "Bạn nhập lý do chuyển (người dân sẽ được biết đơn vị mới):"


def transferred_notice_for_citizen(code: str, unit_name: str) -> str:
    return f"Hồ sơ {code} đã được chuyển đến {unit_name} để giải quyết đúng thẩm quyền."


def transferred_done(code: str, unit_name: str) -> str:
    return f"Đã chuyển hồ sơ {code} cho {unit_name}."


ASK_FORWARD_BODY = (
    "Bạn nhập tên cơ quan có thẩm quyền sẽ nhận hồ sơ (ví dụ: Sở Nông nghiệp và Môi trường tỉnh):"
)


def forwarded_for_citizen(code: str, body: str) -> str:
    return (
        f"Nội dung hồ sơ {code} thuộc thẩm quyền của {body}. UBND xã đã chuyển hồ sơ đến cơ quan "
        "này; bạn có thể liên hệ trực tiếp để theo dõi."
    )


def forwarded_done(code: str, body: str) -> str:
    return f"Đã ghi nhận chuyển hồ sơ {code} đến {body} và báo cho người dân."


ASK_REJECT_REASON = "Lý do không xử lý hồ sơ này?"
ASK_REJECT_NOTE = "Bạn ghi thêm giải thích ngắn cho người dân (hoặc gõ «-» để bỏ qua):"


def rejected_for_citizen(code: str, reason: str, note: str | None) -> str:
    text = f"Hồ sơ {code} không được xử lý. Lý do: {reason}."
    if note:
        text += f"\nGhi chú của cán bộ: {note}"
    return text


def rejected_done(code: str) -> str:
    return f"Đã đóng hồ sơ {code} (không xử lý) và báo cho người dân."


ASK_EXTENSION_REASON = "Bạn nhập lý do xin gia hạn:"


def ask_extension_date(current_due: str) -> str:
    return f"Hạn hiện tại là {current_due}. Bạn nhập ngày hạn mới (dạng 31/12/2026):"


EXTENSION_DATE_INVALID = "Ngày chưa đúng. Bạn nhập ngày theo dạng ngày/tháng/năm, ví dụ 31/12/2026."
EXTENSION_NOT_AFTER = "Ngày hạn mới phải sau hạn hiện tại."


def extension_too_far(latest: str) -> str:
    return f"Ngày hạn mới vượt quá mức được gia hạn (muộn nhất {latest})."


EXTENSION_NOT_ALLOWED = "Hồ sơ này đã hết số lần được gia hạn."


def extension_requested_done(code: str) -> str:
    return f"Đã gửi đề nghị gia hạn hồ sơ {code} cho lãnh đạo phê duyệt."


def extension_request_notice(
    code: str, unit_name: str, current_due: str, new_due: str, reason: str
) -> str:
    return (
        f"⏳ Đề nghị gia hạn hồ sơ {code} ({unit_name})\n"
        f"Hạn hiện tại: {current_due} → đề nghị: {new_due}\n"
        f"Lý do: {reason}"
    )


APPROVE = "Đồng ý gia hạn"
REFUSE = "Không đồng ý"


def extension_approved_for_citizen(code: str, new_due: str) -> str:
    return f"Hồ sơ {code} được gia hạn thời hạn giải quyết đến {new_due}. Xin cảm ơn bạn đã chờ."


def extension_decided_for_officer(code: str, approved: bool, new_due: str) -> str:
    if approved:
        return f"✅ Đề nghị gia hạn hồ sơ {code} đã được đồng ý. Hạn mới: {new_due}."
    return f"❌ Đề nghị gia hạn hồ sơ {code} không được đồng ý. Hạn giữ nguyên."


def extension_decision_done(code: str, approved: bool) -> str:
    return f"Đã {'đồng ý' if approved else 'từ chối'} gia hạn hồ sơ {code}."


EXTENSION_ALREADY_DECIDED = "Đề nghị gia hạn này đã được xử lý trước đó."


def identity_revealed(code: str, name: str | None, phone: str | None) -> str:
    return (
        f"Danh tính người tố cáo hồ sơ {code}: {name or 'không có'} – {phone or 'không có'}.\n"
        "Việc xem đã được ghi nhật ký. Thông tin này phải được giữ bí mật (Luật Tố cáo, Điều 47)."
    )


CASE_CLOSED_FOR_ACTION = "Hồ sơ này đã kết thúc, không thực hiện được thao tác này."
CASE_NOT_YOURS = "Hồ sơ này không thuộc đơn vị của bạn."
TEXT_EXPECTED = "Bạn nhập nội dung bằng chữ giúp mình."


def citizen_unreachable(code: str) -> str:
    return (
        f"⚠️ Không gửi được tin nhắn cho người gửi hồ sơ {code} (người dân đã chặn hoặc rời "
        "kênh). Vui lòng liên hệ bằng cách khác nếu có thông tin liên lạc."
    )


# ----------------------------------------------------------------------------- reminders


def reminder_before_due(code: str, due: str, days: int) -> str:
    return f"⏰ Nhắc việc: hồ sơ {code} còn {days} ngày làm việc đến hạn giải quyết ({due})."


def reminder_due_today(code: str) -> str:
    return f"⏰ Hôm nay là hạn giải quyết hồ sơ {code}."


def overdue_digest(count: int, lines: list[str], more: int) -> str:
    text = f"⚠️ {count} hồ sơ quá hạn cần xử lý ngay:\n" + "\n".join(f"• {line}" for line in lines)
    if more:
        text += f"\n… và {more} hồ sơ khác."
    return text


def overdue_line(code: str, unit_name: str, days_late: int) -> str:
    return f"{code} – {unit_name} – quá hạn {days_late} ngày làm việc"


def unopened_line(code: str, unit_name: str) -> str:
    return f"{code} – {unit_name}"


def unopened_escalation_for(count: int, lines: list[str], more: int) -> str:
    text = (
        f"🔔 {count} hồ sơ chưa được tiếp nhận sau thời hạn. Đề nghị đôn đốc cán bộ xử lý:\n"
        + "\n".join(f"• {line}" for line in lines)
    )
    if more:
        text += f"\n… và {more} hồ sơ khác."
    return text


def leader_digest(count: int, lines: list[str], more: int, threshold: int) -> str:
    text = f"📋 Tổng hợp hồ sơ quá hạn từ {threshold} ngày làm việc trở lên: {count} hồ sơ\n"
    text += "\n".join(f"• {line}" for line in lines)
    if more:
        text += f"\n… và {more} hồ sơ khác."
    return text


# ----------------------------------------------------------------------------- ratings


def rating_thanks(satisfied: bool) -> str:
    if satisfied:
        return (
            "Cảm ơn bạn đã đánh giá! Nếu muốn góp ý thêm, bạn gõ góp ý ngay tại đây, "
            f"hoặc bấm «{SKIP}»."
        )
    return (
        "Rất tiếc vì kết quả chưa làm bạn hài lòng. Bạn có thể đề nghị xem xét lại hồ sơ "
        "(được một lần), hoặc gõ góp ý của bạn."
    )


REOPEN = "Đề nghị xem xét lại"
NO_THANKS = "Không, kết thúc"
ALREADY_RATED = "Hồ sơ này đã được đánh giá. Cảm ơn bạn!"
RATING_NOT_YET = "Hồ sơ này chưa có câu trả lời để đánh giá."
COMMENT_THANKS = "Cảm ơn góp ý của bạn. Ý kiến đã được ghi nhận."
ASK_REOPEN_REASON = "Bạn cho biết lý do chưa hài lòng để cán bộ xem xét lại:"
REOPEN_NOT_ALLOWED = "Hồ sơ này không thể mở lại (mỗi hồ sơ chỉ được đề nghị xem xét lại một lần)."


def reopened_for_citizen(code: str, due: str) -> str:
    return f"Hồ sơ {code} đã được mở lại để xem xét. Hạn trả lời mới: {due}."


def reopened_notice(code: str, unit_name: str, reason: str, due: str) -> str:
    return (
        f"🔁 Người dân chưa hài lòng và đề nghị xem xét lại hồ sơ {code} ({unit_name}).\n"
        f"Lý do: «{reason}»\nHạn trả lời mới: {due}."
    )


def auto_closed_for_citizen(code: str) -> str:
    return f"Hồ sơ {code} đã kết thúc. Cảm ơn bạn đã sử dụng kênh phản ánh, kiến nghị."


REPLY_MORE = f"Bạn có thể gửi thêm tin nhắn hoặc ảnh, hoặc bấm «{DONE}»."


# ----------------------------------------------------------------------------- questions (FAQ)

FAQ_HELPFUL = "Câu trả lời có giúp ích không?"
FAQ_UP = "👍 Có ích"
FAQ_DOWN = "👎 Chưa đúng ý"
FAQ_SUGGEST = "Có phải bạn muốn hỏi về một trong các nội dung sau?"
FAQ_NOT_THESE = "Không phải, gửi câu hỏi cho cán bộ"
FAQ_ASK_OFFICER = "Gửi câu hỏi cho cán bộ"
FAQ_TO_CASE = "Gửi thành phản ánh"
FAQ_JUST_ASKING = "Không, tôi chỉ hỏi"
FAQ_THANKS_UP = "Cảm ơn bạn! 😊"
FAQ_BROWSE = "Bạn chọn chủ đề muốn tìm hiểu, hoặc gõ câu hỏi bằng lời của mình:"
FAQ_CHOOSE_TOPIC = "Bạn chọn câu hỏi:"
FAQ_QUESTION_GONE = "Mình không còn giữ câu hỏi trước. Bạn gõ lại câu hỏi giúp mình nhé."


def faq_more(title: str) -> str:
    return f"Xem thêm: {title}"


def faq_none(hotline: str) -> str:
    return (
        "Mình chưa có câu trả lời cho câu hỏi này. Bạn có thể gửi câu hỏi cho cán bộ xã, "
        f"hoặc gọi đường dây nóng {hotline}."
    )


def faq_thanks_down(hotline: str) -> str:
    return (
        "Cảm ơn bạn đã cho biết, mình sẽ ghi nhận để trả lời tốt hơn. Bạn có thể gửi câu hỏi "
        f"cho cán bộ, hoặc gọi đường dây nóng {hotline}."
    )


FAQ_OFFER_CASE = (
    "Có vẻ bạn đang phản ánh một việc cụ thể. Bạn có muốn gửi thành phản ánh để cán bộ xã "
    "xử lý và trả lời không?"
)


# ----------------------------------------------------------------------------- statistics

STATS_NOT_ALLOWED = (
    "Xin lỗi, số liệu thống kê chỉ dành cho lãnh đạo UBND xã và lãnh đạo các đơn vị."
)


def report_file_ready(title: str) -> str:
    return f"📎 Báo cáo {title}. Tệp Excel đính kèm (không có thông tin cá nhân của người gửi)."
