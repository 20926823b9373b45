"""Match a citizen's question to an FAQ topic: answer it, offer choices, or give up.

Pipeline
--------
1. Normalise with :mod:`bot.rules.textnorm` (NFC, lower case, diacritics folded, ``đ`` → ``d``,
   chat abbreviations expanded, fillers dropped). In a question, a word the corpus never
   uses is first replaced by the most frequent corpus word one edit away ("ngya" → "ngay"),
   so that the phrase tables below still see "bao nhiêu ngày". Then, on the folded tokens:
   polite phrases ("cho em hỏi", "bây giờ") are dropped, question words become one marker
   each ("bao lâu" / "mấy ngày" / "mấy tuần" → ``q_how_long``, "như thế nào" / "ra sao" /
   "ra răng" → ``q_how``, "ở đâu" / "cho ai" → ``q_where``…), synonyms are mapped to one
   form ("giữ kín" → "giữ bí mật", "online" → "trực tuyến", "nộp" → "gửi", "ủy ban" → "xã",
   "xóm" → "thôn", "gửi ai" → "gửi" + ``q_where``), compounds that contain a function word
   are kept whole ("sổ đỏ", "một cửa") and function words are removed (:data:`STOPWORDS`,
   with a few regional particles, and a letter typed alone: "e" = em, a stray "ê"; "ý" stays).
   Regional forms are mapped too ("gửi mô" = "gửi đâu", "coi" = "xem", "thứ bảy" = "thứ 7",
   a final "hông" after "có" / "được" = "không"). What is left are the *content tokens*;
   adjacent pairs are the *bigrams* (Vietnamese words are mostly two syllables, so
   "khieu nai" says much more than "khieu" and "nai" apart).
2. Every question variant and every title of the corpus is indexed the same way. Token
   weights are IDF over topics, so a word used by most topics ("xa", "duoc") counts little
   and a word of one topic ("thoi hieu") counts a lot. A query word the corpus has never
   seen weighs as much as the rarest known word: it is evidence of another subject (less so
   in a long message, where a story surrounds the question).
3. Query words not in the vocabulary are matched to known words within one or two edits
   (typos), and glued pairs ("khieunai") are split. A syllable the corpus only uses inside
   one word ("cao" of "tố cáo") gets less credit when the query has it alone ("sốt cao").
4. An inverted index on tokens and bigrams gives the candidate variants with a cheap overlap
   sum (a shared bigram adds half its weight); only the best of them, at most twelve per topic
   so that one topic with many similar variants cannot crowd the others out, are scored in
   full:

   * query coverage ``R`` and variant coverage ``P`` of the IDF-weighted tokens, combined as
     an F-measure (both sides alike; in a long message the variant side counts more, as a
     story around the question is not all question);
   * bigram coverage of the query (word order and compounds);
   * a character-level similarity of the two content strings (rapidfuzz), a small share.

5. A topic's score mixes its best variant (nudged up by a second good one) with how much of
   the query all its variants together cover (words and bigrams). It is lowered when the
   question names a subject the FAQ does not cover (:data:`OTHER_SUBJECTS`, e.g. "khai
   sinh", "bưu điện", "bao nhiêu tiền", "Luật Tố cáo") that neither the topic's questions,
   its answer nor its legal basis mention, or words found nowhere in the corpus, and when
   the content words it shares with the query (question markers left out) weigh less than a
   rare word: "cảm ơn nhiều" shares only "nhiều" with a topic. Two guards against questions
   that borrow a topic's frame but are about something else, neither tied to a word list:

   * *core words*: a question that uses none of the words found in at least a fifth of the
     topic's questions ("công khai" for what is made public) gets a lower score for it; words
     most topics use ("xã", "được") do not count as core words;
   * *novelty*: when most adjacent word pairs of the question occur nowhere in the corpus
     (answers included), every topic's score is lowered: "giờ mở cửa bưu điện" is made of
     known syllables, but "bưu điện" is no word of this FAQ.
6. ``answer`` needs the top score at ``answer_threshold`` *and* a lead of ``answer_margin``
   over the next topic, or a lower score (``clear_lead_threshold``) far ahead of the next
   (``clear_lead_margin``); ``suggest`` needs ``suggest_threshold`` and offers the top three;
   anything lower is ``none``.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.rules import textnorm
from faq.corpus import Corpus

Outcome = Literal["answer", "suggest", "none"]

# Defaults of the [faq] section of config.toml (chosen on tests/faq/data/faq_dev.jsonl,
# faq_dev2.jsonl, the 5-fold runs of bench/faq_crossval.py and faq_oos_extra.jsonl).
DEFAULT_ANSWER_THRESHOLD = 0.50
DEFAULT_ANSWER_MARGIN = 0.05
DEFAULT_SUGGEST_THRESHOLD = 0.40
# A lower score still answers when it is far ahead of the next topic.
DEFAULT_CLEAR_LEAD_THRESHOLD = 0.46
DEFAULT_CLEAR_LEAD_MARGIN = 0.18

# Multi-word polite phrases removed before scoring (folded forms).
STOP_PHRASES: tuple[str, ...] = (
    "cho em hoi",
    "cho toi hoi",
    "cho minh hoi",
    "cho chau hoi",
    "cho con hoi",
    "cho tui hoi",
    "cho bac hoi",
    "cho hoi",
    "xin hoi",
    "em hoi",
    "toi hoi",
    "muon hoi",
    "hoi chut",
    "hoi ve",
    "hoi la",
    "xin chao",
    "chao ban",
    "cam on",
    "vui long",
    "lam on",
    # "bây giờ" (now) is a filler; "mấy giờ rồi" asks the time of day
    "may gio roi",
    "bay gio",
    "gio day",
)

# Question words, however phrased, become one marker token so that "bao lâu" matches "mấy
# ngày" and "như thế nào" matches "ra sao": they tell sibling topics apart (what is made
# public / how / how soon). Markers are ordinary tokens for the index and get IDF weights.
QUESTION_MARKERS: Mapping[str, str] = {
    "la gi": "q_what",
    "nghia la gi": "q_what",
    "nhung gi": "q_what",
    "cai gi": "q_what",
    "gi": "q_what",
    "nhu the nao": "q_how",
    "nhu nao": "q_how",
    "lam the nao": "q_how",
    "the nao": "q_how",
    "lam sao": "q_how",
    "ra sao": "q_how",
    "bang cach nao": "q_how",
    "cach nao": "q_how",
    "bang cach": "q_how",
    "o dau": "q_where",
    "cho nao": "q_where",
    "noi nao": "q_where",
    "khi nao": "q_when",
    "bao gio": "q_when",
    "luc nao": "q_when",
    "hom nao": "q_when",
    "ngay nao": "q_when",
    "thu may": "q_when",
    "bua nao": "q_when",
    "bao lau": "q_how_long",
    "may ngay": "q_how_long",
    "bao nhieu ngay": "q_how_long",
    "may hom": "q_how_long",
    "bao nhieu lau": "q_how_long",
    "mat bao lau": "q_how_long",
    "bao nhieu hom": "q_how_long",
    "may bua": "q_how_long",
    "bao nhieu bua": "q_how_long",
    "may tuan": "q_how_long",
    "bao nhieu tuan": "q_how_long",
    "may thang": "q_how_long",
    "bao nhieu thang": "q_how_long",
    "may nam": "q_how_long",
    "bao nhieu nam": "q_how_long",
    # "to whom": sending something "cho ai" asks where it goes (see also SYNONYMS)
    "cho ai": "q_where",
    "voi ai": "q_where",
    "cho mo": "q_where",
    "o mo": "q_where",
    "noi mo": "q_where",
    # regional forms (Central: chi = gì, răng = sao; South: sao dzậy)
    "cai chi": "q_what",
    "la chi": "q_what",
    "nhung chi": "q_what",
    "ra rang": "q_how",
    "lam rang": "q_how",
    "the mo": "q_how",
    "kieu gi": "q_how",
    "kieu nao": "q_how",
    "cach gi": "q_how",
    # more regional forms: mần răng = làm sao, chừng nào / lúc mô = khi nào, ngày mấy = which date
    "man rang": "q_how",
    "man sao": "q_how",
    "chung nao": "q_when",
    "ngay may": "q_when",
    "luc mo": "q_when",
    # "là răng" = "là gì / là sao" (Central)
    "la rang": "q_what",
    "cach chi": "q_how",
}

# Ways citizens say the same thing, mapped to the form the corpus mostly uses (folded). Applied
# to the corpus and to questions alike, so either side may use either form.
SYNONYMS: Mapping[str, str] = {
    "giu kin": "giu bi mat",
    "bi lo": "lo",
    "ten tuoi": "danh tinh",
    "an danh": "nac danh",
    "giau ten": "nac danh",
    "thuong nien": "hang nam",
    "moi nam": "hang nam",
    "online": "truc tuyen",
    "qua mang": "truc tuyen",
    "bai nhiem": "mien nhiem",
    "cho thoi": "mien nhiem",
    "phe duyet": "cong nhan",
    "cham diem": "danh gia",
    "trach nhiem": "nghia vu",
    "hotline": "duong day nong",
    "chatbot": "bot",
    "chat bot": "bot",
    "tra thu": "tru dap",
    "ct": "chu tich",
    "tc": "to cao",
    "kien ra toa": "khoi kien",
    "lan 2": "lan hai",
    "lan thu hai": "lan hai",
    "lan 1": "lan dau",
    "lan mot": "lan dau",
    "lan thu nhat": "lan dau",
    "phan tram": "ty le",
    "ti le": "ty le",
    "hoa hoan": "chay",
    "bao luc": "de doa",
    # filing: "nộp" and "gửi" are used interchangeably
    "nop": "gui",
    # the People's Committee is "the commune" to citizens ("ubnd" is expanded by textnorm)
    # "ủy ban (xã) ở đâu" asks where the office is, not which body: the address
    "uy ban nhan dan xa o dau": "tru so xa q_where",
    "uy ban nhan dan o dau": "tru so xa q_where",
    "uy ban xa o dau": "tru so xa q_where",
    "uy ban o dau": "tru so xa q_where",
    "uy ban nhan dan": "xa",
    "uy ban mat tran": "mat tran",
    "uy ban": "xa",
    # villages: xóm, làng, ấp, bản are all "thôn" for these rules
    "truong xom": "truong thon",
    "truong ap": "truong thon",
    "to truong to dan pho": "truong thon",
    "to truong": "truong thon",
    "xom": "thon",
    "lang": "thon",
    "lang nghe": "nghe",
    # "gửi ai", "nộp đâu": the verb stays, the rest is a "where" question
    "gui ai": "gui q_where",
    "nop ai": "gui q_where",
    "bao ai": "bao q_where",
    "gui dau": "gui q_where",
    "nop dau": "gui q_where",
    "bao dau": "bao q_where",
    "len dau": "len q_where",
    "di dau": "di q_where",
    # Central "mô" = "đâu"
    "gui mo": "gui q_where",
    "nop mo": "gui q_where",
    "bao mo": "bao q_where",
    "len mo": "len q_where",
    "di mo": "di q_where",
    # Southern "hông" = "không" ("hông" folds onto "hỏng", broken: only in these frames)
    "duoc hong": "duoc khong",
    "co hong": "co khong",
    "phai hong": "phai khong",
    "dung hong": "dung khong",
    "roi hong": "roi khong",
    "hong phai": "khong phai",
    "hong biet": "khong biet",
    "hong duoc": "khong duoc",
    "hong co": "khong co",
    "hong hieu": "khong hieu",
    "hong thay": "khong thay",
    # Southern "coi" = "xem", "hổm bữa / hôm bữa" = "hôm trước"
    "coi": "xem",
    "hom bua": "hom truoc",
    "hom kia": "hom truoc",
    # "rõ ràng" (clear): keep it whole, as "răng" alone is the Central "sao"
    "ro rang": "rorang",
    # danger right now: the words stay and "khẩn cấp" is added, so that a flood, a fire or a
    # drowning all meet the emergency topic however the citizen describes it (only words of
    # danger happening now: a theft reported later is no emergency)
    "cuu voi": "cuu khan cap",
    "cuu gap": "cuu khan cap",
    "duoi nuoc": "duoi nuoc khan cap",
    "nuoc lu": "nuoc lu khan cap",
    "lu quet": "lu quet khan cap",
    "sat lo": "sat lo khan cap",
    "mac ket": "mac ket khan cap",
    "boc chay": "boc chay khan cap",
    "dang chay": "dang chay khan cap",
    "chem nhau": "chem nhau khan cap",
    "bat tinh": "bat tinh khan cap",
    "dot quy": "dot quy khan cap",
    # weekdays as digits, the way the corpus writes them ("bảy" alone is "trình bày")
    "thu bay": "thu 7",
    "thu sau": "thu 6",
    # "mấy giờ" asks for office hours: keep "giờ"
    "may gio": "gio q_when",
    "gio nao": "gio q_when",
    # answers
    "phan hoi": "tra loi",
    "hoi am": "tra loi",
    "bao lai": "tra loi",
    "tra loi lai": "tra loi",
    # everyday words for the same thing
    "bang chung": "chung cu",
    "chung minh thu": "cmnd",
    "chung minh nhan dan": "cmnd",
    # "cửa" folds to the stopword "của" and "một" is a stopword: keep these compounds whole
    "mot cua": "motcua",
    "mo cua": "mocua",
    # compounds of every administrative question, one token each: "hồ sơ" is not "hộ" (household)
    "giay to": "giayto",
    "ho so": "hoso",
    "dang ky": "dangky",
    "lien he": "lienhe",
    # "lượng" of quality and quantity is not "lương" (salary, out of scope)
    "chat luong": "chatluong",
    "so luong": "soluong",
    "chup hinh": "chup anh",
    "mang xa hoi": "zalo",
    "facebook": "zalo",
    "video": "truc tuyen",
    # phrases with a function word inside ("đỏ" folds to the stopword "do", "thi" to "thì")
    "so do": "sodo",
    "so hong": "sohong",
    "thi cong chuc": "tuyen dung cong chuc",
    "thi tuyen": "tuyen dung",
    # "xin" is a stopword: "xin việc" (job hunting) must not become "việc"
    "xin viec": "tim viec",
    # colloquial and alternative words for the corpus' terms
    "to giac": "to cao",
    "khieu kien": "khieu nai",
    "keu oan": "khieu nai",
    "toa an": "toa",
    "bo phieu": "bieu quyet",
    "gio tay": "bieu quyet",
    "lay phieu": "bieu quyet",
    "cong bo": "cong khai",
    "tham van": "lay y kien",
    "hoi y kien": "lay y kien",
    "xin y kien": "lay y kien",
    "sai luat": "trai luat",
    "trai phap luat": "trai luat",
    "le lang": "huong uoc",
    "go bo": "go",
    "don tu": "don",
    "khong dong tinh": "khong dong y",
    "deadline": "han chot",
    "tien do": "tiendo",
    "che do": "chedo",
    "thu dien tu": "email",
    "mail": "email",
    "bo phan tiep nhan va tra ket qua": "motcua",
    "bo phan tiep nhan": "motcua",
    "nhan vien": "can bo",
    "cong chuc": "can bo",
    "nghe theo": "tiep thu",
    "gap go": "gap",
    "thong tin rieng tu": "thong tin ca nhan",
    "thong tin rieng": "thong tin ca nhan",
    "rieng tu": "ca nhan",
}

# Subjects the FAQ does not cover (other procedures, services, prices, weather, sport…),
# folded. A question naming one of them that the topic never mentions (questions or answer) is
# about something else: the topic's score is lowered so that it is at most suggested. Words
# that in-scope questions use as context ("đám cưới" in a hương ước, "đền bù" in a complaint)
# are left out on purpose.
OTHER_SUBJECTS: tuple[str, ...] = (
    "khai sinh",
    "khai tu",
    "chung tu",
    "ket hon",
    "ly hon",
    "ly di",
    "con nuoi",
    "tam tru",
    "thuong tru",
    "tam vang",
    "ho khau",
    "ho chieu",
    "bang lai",
    "lai xe",
    "dang kiem",
    "cong chung",
    "thua ke",
    "sang ten",
    "sodo",
    "sohong",
    "nop thue",
    "tien thue",
    "thue dat",
    "thue thu nhap",
    "hoc phi",
    "tuyen sinh",
    "luong huu",
    "tien luong",
    "muc luong",
    "vac xin",
    "tiem chung",
    "tiem phong",
    "thoi tiet",
    "bong da",
    "gia vang",
    "gia xang",
    "xo so",
    "nghia vu quan su",
    "vay von",
    "ten la gi",  # "chủ tịch xã tên là gì": names of people are not in the FAQ
    "lam can cuoc",
    "cap can cuoc",
    "cap lai can cuoc",
    "doi can cuoc",
    "lam chung minh nhan dan",
    "cap chung minh nhan dan",
    "giay phep",
    "tuyen dung",
    "doi ten",
    "cai chinh",
    "kinh doanh",
    "bien so",
    "gia dat",
    "bang gia",
    "bao hiem y te",
    "bao hiem xa hoi",
    "tro cap that nghiep",
    "hoc sinh",
    "cu tru",
    "luong",
    "nghia vu cong an",
    "viec lam",
    "xuat khau lao dong",
    "nguoi co cong",
    "thuong binh",
    "liet si",
    "tien dien",
    "tien nuoc",
    "phat nguoi",
    "nghi phep",
    "hoc bong",
    # prices and fees: how much something costs is not in the FAQ
    "bao nhieu tien",
    "het bao nhieu",
    "mat phi",
    # head counts of an office and founding dates are facts about bodies, not procedures
    # ("có mấy" counts; "mấy" alone is also the plural "mấy ông cán bộ")
    "co may pho chu tich",
    "bao nhieu pho chu tich",
    "co may can bo",
    "bao nhieu can bo",
    "bao nhieu cong chuc",
    "thanh lap q_when",
    "thanh lap nam",
    # party membership
    "vao dang",
    "ket nap dang",
    # laws by name: a topic is exempt when its legal basis names the law
    "luat khieu nai",
    "luat to cao",
    "luat tiep cong dan",
    "luat thanh tra",
    "luat to chuc chinh quyen",
    # sessions and events of bodies, departments, farming
    "ky hop",
    "phong ban",
    "ngay hoi",
    "dai doan ket",
    "phan bon",
    "thuoc tru sau",
    "sau benh",
    # issuing chip ID cards (the police's procedure) and sending money
    "gan chip",
    "chuyen tien",
    # papers and devices of one's own
    "lam lai can cuoc",
    "giay goi nhap ngu",
    "giay goi kham",
    "dien thoai bi",
    # other procedures and services a commune office is asked about, and everyday subjects
    "nhan cha",
    "giam ho",
    "trich luc",
    "tinh trang hon nhan",
    "doc than",
    "ho tich",
    "quoc tich",
    "nhap khau",
    "tach khau",
    "chuyen khau",
    "vneid",
    "visa",
    "ly lich tu phap",
    "chung thuc",
    "so do",
    "so hong",
    "tach thua",
    "hop thua",
    "chuyen muc dich",
    "chuyen nhuong",
    "di chuc",
    "di san",
    "ban do dia chinh",
    "tien su dung dat",
    "han muc",
    "giao dat",
    "giay phep xay dung",
    "xin phep xay",
    "cap phep xay",
    "ma so thue",
    "hoan thue",
    "quyet toan thue",
    "thue mon bai",
    "an toan thuc pham",
    "bao hiem that nghiep",
    "huu tri",
    "thai san",
    "tu tuat",
    "mai tang",
    "ho can ngheo",
    "so ho ngheo",
    "tro cap xa hoi",
    "bao tro xa hoi",
    "khuyet tat",
    "nguoi cao tuoi",
    "cuu doi",
    "nhap hoc",
    "chuyen truong",
    "diem chuan",
    "sinh vien",
    "dai hoc",
    "mam non",
    "tieu hoc",
    "kham benh",
    "kham suc khoe",
    "benh vien",
    "sot xuat huyet",
    "kham tuyen",
    "giay phep lai xe",
    "dang ky xe",
    "vi pham giao thong",
    "xe buyt",
    "taxi",
    "phan bon",
    "giong lua",
    "thuoc tru sau",
    "gia suc",
    "gia cam",
    "chan nuoi",
    "dich ta",
    "thuy san",
    "tau ca",
    "dien luc",
    "cup dien",
    "nuoc sach",
    "cap quang",
    "wifi",
    "buu dien",
    "ngan hang",
    "the atm",
    "chuyen khoan",
    "lai suat",
    "tim viec",
    "hoc nghe",
    "that nghiep",
    "du bao",
    "da bong",
    "ty gia",
    "chung khoan",
    "nau an",
    "mon an",
    "bai hat",
    "phim",
    "truyen cuoi",
    "du lich",
    "du hoc",
    "doi no",
    "mua ban dat",
    "mua ban nha",
    "gia bao nhieu",
    "sao y ban chinh",
    "dinh danh dien tu",
    "bao hiem",
    # other laws than the ones the FAQ explains
    "luat dat dai",
    "luat dat",
    "luat hon nhan",
    "luat giao thong",
    "luat lao dong",
    "luat hinh su",
    "luat dan su",
    "bo luat",
    "luat cu tru",
    # festivals, names, support schemes, land deals and other everyday subjects
    "le hoi",
    "hoi lang",
    "van nghe",
    "the thao",
    "dat ten",
    "dat lai ten",
    "ho tro lam nha",
    "ho tro xay nha",
    "nha tinh thuong",
    "nha tinh nghia",
    "nha o xa hoi",
    "khu cong nghiep",
    "hien dat",
    "dat trong lua",
    "tu vi",
    "nguoi yeu",
    "the chap",
    "ban xe",
    "mua xe",
    "xe may",
    "covid",
    "phu cap",
    "mung tho",
    "chuc tho",
    "tram y te",
    "hoc ba",
    "kham nghia vu",
    "gia lua",
    "gia heo",
    "gia ca phe",
    "dich ta lon",
    "thue tro",
    "phong tro",
    "xac nhan cu tru",
    "ngan hang chinh sach",
    "tiem vang",
    "tot nghiep",
    "bang cap",
    "van bang",
    "tra luong",
    "nghi huu",
    "may bay",
    "tau hoa",
    "xe khach",
    "ben xe",
    "hat giong",
    "cay giong",
)


# All phrase tables as token tuples, by first token, longest first: the tokens replace the
# phrase ("cho em hoi" → nothing, "bao lau" → q_how_long, "giu kin" → "giu bi mat").
def _phrase_index() -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    entries = (
        [(tuple(p.split()), ()) for p in STOP_PHRASES]
        + [(tuple(p.split()), (marker,)) for p, marker in QUESTION_MARKERS.items()]
        + [(tuple(p.split()), tuple(r.split())) for p, r in SYNONYMS.items()]
    )
    index: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for phrase, replacement in sorted(entries, key=lambda item: -len(item[0])):
        index.setdefault(phrase[0], []).append((phrase, replacement))
    return index


_PHRASES = _phrase_index()

# Function words that never tell two topics apart (folded forms). Words that are also the
# folded form of a meaningful word ("to" = tố, "ban" = Ban, "co" = cơ quan, "dau" = đầu tư,
# "long" = hài lòng, "de" = đề xuất, "tu" = tự quản, "anh" = phản ánh, "chi" = thu chi,
# "ba" = ba ngày) are left to the IDF weights instead.
STOPWORDS: frozenset[str] = frozenset(
    {
        "cho",
        "em",
        "toi",
        "tui",
        "minh",
        "chau",
        "bac",
        "ong",
        "con",
        "la",
        "thi",
        "ma",
        "cua",
        "va",
        "voi",
        "hoac",
        "hay",
        "ve",
        "nao",
        "sao",
        "the",
        "vay",
        "roi",
        "nhung",
        "cac",
        "mot",
        "nay",
        "do",
        "ay",
        "kia",
        "day",
        "nua",
        "xin",
        "giup",
        "chao",
        "neu",
        "o",
        "nhu",
        "oi",
        "a",
        # regional particles: rứa (so), dzậy (vậy), nè, hả, răng (sao), giùm (giúp)
        "rang",
        "gium",
        "rua",
        "dzay",
        "ne",
        "ha",
    }
)

# Scoring constants, tuned on tests/faq/data/faq_dev.jsonl and faq_dev2.jsonl, on 5-fold runs
# over the corpus' own question variants (bench/faq_crossval.py) and on the out-of-scope
# questions of faq_oos_extra.jsonl (never on faq_dev3.jsonl's errors or the held-out sets).
_CANDIDATE_VARIANTS = 48  # variants scored in full, picked by the cheap overlap sum
_LONG_POSTING_MIN = 200  # posting lists longer than this (and 10 % of variants) may be skipped
_FIRST_TERMS = 3  # ...but never those of the query's three rarest words
_CANDIDATES_PER_TOPIC = 12  # at most this many of one topic's variants among them
_CANDIDATE_BIGRAM_SHARE = 0.5  # a shared bigram adds this share of its weight to the sum
# Variant score = F-measure of weighted word coverage, bigram coverage, character similarity.
_F_BETA_SQUARED = 1.0  # query coverage and variant coverage count alike
_W_F = 0.70
_W_BIGRAM = 0.15
_W_CHAR = 0.15
# Topic score = best variant (a second good variant adds a little) and how much of the query
# the topic's variants together cover, in words and in bigrams.
_SECOND_VARIANT_BONUS = 0.15
_W_TOPIC_VARIANT = 0.60
_W_TOPIC_RECALL = 0.25
_W_TOPIC_BIGRAM = 0.15
# Credit of a query word found in a topic's answer but in none of its questions.
_ANSWER_CREDIT = 0.5
_FUZZY_LIMIT = 3  # known words a typo may stand for
# A syllable seen (almost) only inside one bigram, met alone in a query, gets this credit.
_BOUND_MIN_COUNT = 3
_BOUND_SHARE = 0.85
_UNBOUND_CREDIT = 0.4
# Question markers are frequent, so IDF would make them nearly free; they decide between
# sibling topics ("what is made public" / "how" / "how soon"), so they get a floor weight.
_MARKER_WEIGHT = 1.5
# Per word found nowhere in the corpus, not even in the answers (at most two counted).
_STRANGER_FACTOR = 0.9
# Per OTHER_SUBJECTS phrase of the question that the topic never mentions.
_OTHER_SUBJECT_FACTOR = 0.65
# Evidence: the IDF weight of the query's content words (not question markers) that the topic
# covers. Below this share of the weight of the rarest word, the topic's score is scaled down
# (squared ratio): one common word ("nhiều" in "cảm ơn nhiều nha") is not enough to answer.
_MIN_EVIDENCE_SHARE = 0.8
_EVIDENCE_POWER = 2.0
# Long messages (stories) carry many words the corpus never uses; past this many content
# words, unknown words weigh less and less so that the question inside the story still counts.
_LONG_QUERY_WORDS = 8
# A topic's core words are those many of its questions use ("công khai", "hương ước"): the
# share of its indexed texts that contain the word. A question sharing none of the topic's
# words used by at least _CORE_MIN_SHARE of them is probably about something else that only
# borrows the topic's frame ("… bao lâu", "… ở đâu"): the score is scaled by _CORE_FACTOR.
_CORE_MIN_SHARE = 0.2
_CORE_FACTOR = 0.8
# Words used by nearly half of the topics or more (IDF below this) are no core words.
_CORE_MIN_IDF = 0.8
# Novelty: the share of the question's adjacent word pairs (question markers left out) found
# nowhere in the corpus, answers included. Vietnamese meaning lives in two-syllable words, so
# a question made of pairs the corpus never uses ("bưu điện", "tạm trú") is likely about
# another subject even when each syllable is known. Above _NOVELTY_FREE, every topic's score
# is scaled by 1 - _NOVELTY_PENALTY * (novelty - _NOVELTY_FREE).
_NOVELTY_FREE = 0.4
_NOVELTY_PENALTY = 0.5
_LONG_BETA_POWER = 1.0


@dataclass(frozen=True, slots=True)
class FaqDecision:
    """What to do with a question: answer ``topic_id``, offer choices, or nothing."""

    outcome: Outcome
    topic_id: str | None
    score: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)

    @property
    def suggestions(self) -> list[str]:
        """Topic ids to offer as choices: the top one and up to two alternatives."""
        if self.topic_id is None:
            return []
        return [self.topic_id, *(tid for tid, _ in self.alternatives[:2])]

    def as_json_dict(self) -> dict[str, Any]:
        """The ``pakn faq ask --json`` shape (ids, outcome, scores rounded to 2 decimals)."""
        return {
            "id": self.topic_id,
            "score": round(self.score, 2),
            "outcome": self.outcome,
            "alternatives": [
                {"id": tid, "score": round(score, 2)} for tid, score in self.alternatives
            ],
        }


@dataclass(frozen=True, slots=True)
class _Variant:
    topic: int  # index into FaqMatcher._topic_ids
    tokens: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    weight: float  # sum of the IDF weights of ``tokens``
    text: str  # content tokens joined by spaces, for the character-level score


@dataclass(frozen=True, slots=True)
class _Query:
    # Each content token with its weight and the vocabulary words it may stand for (with a
    # credit in (0, 1]; empty when the word is unknown).
    words: tuple[tuple[float, tuple[tuple[str, float], ...]], ...]
    weight: float
    bigrams: tuple[tuple[tuple[str, str], float], ...]
    bigram_weight: float
    text: str
    strangers: int  # words found nowhere in the corpus, not even in the answers
    beta2: float  # weight of query coverage against variant coverage (less for long messages)
    subjects: tuple[tuple[str, ...], ...]  # phrases of OTHER_SUBJECTS in the question
    novelty: float  # share of the query's word pairs found nowhere in the corpus


# Words after which a final "hong" is "hỏng" (broken): "bị hỏng", "hư hỏng", "làm hỏng".
_BROKEN_BEFORE = frozenset({"bi", "hu", "lam", "da", "deu"})

# A letter alone is a pronoun typed short ("e" = em, "t" = tôi, "b" = bạn) or a stray key ("ê"),
# never a subject, except "ý" (folded "y": "góp ý", "đồng ý").
_LONE_LETTERS = frozenset("abcdefghijklmnopqrstuvwxz")


def content_tokens(text: str, correct: Callable[[str], str] | None = None) -> list[str]:
    """Normalised tokens of ``text`` without stop-phrases and stopwords, in order.

    ``correct`` may replace each normalised word first (typo correction), so that phrase
    tables see "bao nhieu ngay" in "bao nhieu ngya".
    """
    words = textnorm.tokens(text)
    if correct is not None:
        words = [correct(word) for word in words]
    if (
        len(words) > 2
        and words[-1] == "hong"
        and words[-2] not in _BROKEN_BEFORE
        and ("co" in words or "duoc" in words)
    ):
        # Southern "…có … hông?" ends a yes/no question: "hông" = "không", not "hỏng".
        words = [*words[:-1], "khong"]
    kept: list[str] = []
    i = 0
    n = len(words)
    while i < n:
        word = words[i]
        for phrase, replacement in _PHRASES.get(word, ()):
            size = len(phrase)
            if tuple(words[i : i + size]) == phrase:
                kept.extend(replacement)
                i += size
                break
        else:
            if word not in STOPWORDS and not (len(word) == 1 and word in _LONE_LETTERS):
                kept.append(word)
            i += 1
    return kept


def _bigrams(words: Sequence[str]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in itertools.pairwise(words) if a != b]


# Through the same pipeline as questions ("vay vốn" loses the stopword "vay" = "vậy").
_OTHER_SUBJECT_TOKENS: tuple[tuple[str, ...], ...] = tuple(
    dict.fromkeys(
        tokens for tokens in (tuple(content_tokens(phrase)) for phrase in OTHER_SUBJECTS) if tokens
    )
)

# By first token, so that a question is scanned once whatever the length of the list.
_OTHER_SUBJECT_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _phrase in _OTHER_SUBJECT_TOKENS:
    _OTHER_SUBJECT_BY_FIRST.setdefault(_phrase[0], []).append(_phrase)


def _other_subjects(words: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """The phrases of OTHER_SUBJECTS found in ``words`` (each once, in list order)."""
    found: set[tuple[str, ...]] = set()
    for start, word in enumerate(words):
        for phrase in _OTHER_SUBJECT_BY_FIRST.get(word, ()):
            if tuple(words[start : start + len(phrase)]) == phrase:
                found.add(phrase)
    if not found:
        return ()
    return tuple(phrase for phrase in _OTHER_SUBJECT_TOKENS if phrase in found)


def _best_credit(expansions: tuple[tuple[str, float], ...]) -> float:
    return max((credit for _, credit in expansions), default=0.0)


def _bound_tokens(texts: Iterable[Sequence[str]]) -> dict[str, tuple[str, str]]:
    """Tokens that (almost) only occur inside one bigram, mapped to that bigram.

    Vietnamese syllables fold onto each other: "cao" is nearly always the second half of
    "to cao" in the corpus, but alone in a query it is "cao" (high). Such a token matched
    without its partner gets reduced credit.
    """
    counts: dict[str, int] = {}
    pair_counts: dict[tuple[str, str], int] = {}
    for words in texts:
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        for pair in _bigrams(words):
            pair_counts[pair] = pair_counts.get(pair, 0) + 1
    best: dict[str, tuple[int, tuple[str, str]]] = {}
    for pair, count in pair_counts.items():
        for word in pair:
            if word not in best or count > best[word][0]:
                best[word] = (count, pair)
    return {
        word: pair
        for word, (count, pair) in best.items()
        if counts[word] >= _BOUND_MIN_COUNT and count >= _BOUND_SHARE * counts[word]
    }


def _topic_core(topics: int, texts: Sequence[tuple[int, list[str]]]) -> list[dict[str, float]]:
    """Per topic, the share of its indexed texts (questions and title) that use each word."""
    counts: list[dict[str, int]] = [{} for _ in range(topics)]
    sizes = [0] * topics
    for topic, words in texts:
        sizes[topic] += 1
        for word in set(words):
            counts[topic][word] = counts[topic].get(word, 0) + 1
    return [
        {word: n / sizes[t] for word, n in counts[t].items()} if sizes[t] else {}
        for t in range(topics)
    ]


def _word_counts(corpus: Corpus) -> dict[str, int]:
    """How often each normalised word occurs in the corpus and in the phrase tables."""
    counts: dict[str, int] = {}
    for topic in corpus.topics.values():
        for text in (topic.title, topic.answer, *topic.questions):
            for word in textnorm.tokens(text):
                counts[word] = counts.get(word, 0) + 1
    for phrase in itertools.chain(STOP_PHRASES, QUESTION_MARKERS, SYNONYMS, OTHER_SUBJECTS):
        for word in phrase.split():
            counts[word] = counts.get(word, 0) + 1
    for word in STOPWORDS:
        counts[word] = counts.get(word, 0) + 1
    return counts


def _max_edits(word: str) -> int:
    if len(word) <= 3 or not word.isalpha():
        return 0
    return 1 if len(word) <= 7 else 2


class FaqMatcher:
    """An index over the question variants and titles of a corpus."""

    def __init__(
        self,
        *,
        topic_ids: list[str],
        variants: list[_Variant],
        idf: dict[str, float],
        bigram_idf: dict[tuple[str, str], float],
        bound: dict[str, tuple[str, str]],
        answer_words: frozenset[str],
        topic_answer_tokens: list[frozenset[str]],
        topic_answer_bigrams: list[frozenset[tuple[str, str]]],
        topic_basis_words: list[tuple[str, ...]],
        unknown_weight: float,
        word_counts: Mapping[str, int],
        corpus_pairs: frozenset[tuple[str, str]],
        topic_core: list[dict[str, float]],
        answer_threshold: float,
        answer_margin: float,
        suggest_threshold: float,
        clear_lead_threshold: float,
        clear_lead_margin: float,
    ) -> None:
        if not 0.0 <= suggest_threshold <= answer_threshold <= 1.0:
            raise ValueError("need 0 <= suggest_threshold <= answer_threshold <= 1")
        if not suggest_threshold <= clear_lead_threshold <= answer_threshold:
            raise ValueError("need suggest_threshold <= clear_lead_threshold <= answer_threshold")
        if not 0.0 <= answer_margin <= 1.0 or not 0.0 <= clear_lead_margin <= 1.0:
            raise ValueError("answer_margin and clear_lead_margin must be between 0 and 1")
        self.answer_threshold = answer_threshold
        self.answer_margin = answer_margin
        self.suggest_threshold = suggest_threshold
        self.clear_lead_threshold = clear_lead_threshold
        self.clear_lead_margin = clear_lead_margin
        self._topic_ids = topic_ids
        self._variants = variants
        self._idf = idf
        self._bigram_idf = bigram_idf
        self._bound = bound
        self._answer_words = answer_words
        self._topic_answer_tokens = topic_answer_tokens
        self._topic_answer_bigrams = topic_answer_bigrams
        self._topic_basis = [" ".join(words) for words in topic_basis_words]
        self._unknown_weight = unknown_weight
        self._min_evidence = _MIN_EVIDENCE_SHARE * unknown_weight
        self._vocabulary = sorted(idf)
        postings: dict[str, list[int]] = {}
        for index, variant in enumerate(variants):
            for token in variant.tokens:
                postings.setdefault(token, []).append(index)
        self._postings = postings
        bigram_postings: dict[tuple[str, str], list[int]] = {}
        for index, variant in enumerate(variants):
            for pair in variant.bigrams:
                bigram_postings.setdefault(pair, []).append(index)
        self._bigram_postings = bigram_postings
        self._long_posting = max(_LONG_POSTING_MIN, len(variants) // 10)
        glued: dict[str, tuple[str, str]] = {}
        for pair in bigram_idf:
            glued.setdefault(pair[0] + pair[1], pair)
        self._glued = glued
        self._fuzzy_cache: dict[str, tuple[tuple[str, float], ...]] = {}
        # Normalised words before phrase tables and stopwords, most frequent first: typo
        # correction prefers the common word when two are one edit away.
        self._words_by_frequency = sorted(word_counts, key=lambda w: (-word_counts[w], w))
        self._word_set = frozenset(word_counts)
        self._correct_cache: dict[str, str] = {}
        topic_tokens: list[set[str]] = [set() for _ in topic_ids]
        topic_bigrams: list[set[tuple[str, str]]] = [set() for _ in topic_ids]
        for variant in variants:
            topic_tokens[variant.topic].update(variant.tokens)
            topic_bigrams[variant.topic].update(variant.bigrams)
        self._topic_tokens = [frozenset(t) for t in topic_tokens]
        self._topic_bigrams = [frozenset(b) for b in topic_bigrams]
        self._corpus_pairs = corpus_pairs
        self._topic_core = topic_core

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        corpus: Corpus,
        *,
        answer_threshold: float = DEFAULT_ANSWER_THRESHOLD,
        answer_margin: float = DEFAULT_ANSWER_MARGIN,
        suggest_threshold: float = DEFAULT_SUGGEST_THRESHOLD,
        clear_lead_threshold: float | None = None,
        clear_lead_margin: float = DEFAULT_CLEAR_LEAD_MARGIN,
    ) -> FaqMatcher:
        """Index every question variant and title of ``corpus``."""
        topic_ids = list(corpus.topics)
        texts: list[tuple[int, list[str]]] = []
        topic_df: dict[str, int] = {}
        bigram_df: dict[tuple[str, str], int] = {}
        for index, topic in enumerate(corpus.topics.values()):
            seen: set[str] = set()
            seen_pairs: set[tuple[str, str]] = set()
            for text in (topic.title, *topic.questions):
                words = content_tokens(text)
                if not words:
                    continue
                texts.append((index, words))
                seen.update(words)
                seen_pairs.update(_bigrams(words))
            for word in seen:
                topic_df[word] = topic_df.get(word, 0) + 1
            for pair in seen_pairs:
                bigram_df[pair] = bigram_df.get(pair, 0) + 1
        total = max(len(topic_ids), 1)

        def idf_of(df: float) -> float:
            return math.log((total + 1.0) / (df + 0.5))

        idf = {word: idf_of(df) for word, df in topic_df.items()}
        for word in idf:
            if word.startswith("q_"):
                idf[word] = max(idf[word], _MARKER_WEIGHT)
        bigram_idf = {pair: idf_of(df) for pair, df in bigram_df.items()}
        answer_texts = [content_tokens(topic.answer) for topic in corpus.topics.values()]
        variants: list[_Variant] = []
        for topic_index, words in texts:
            unique = frozenset(words)
            variants.append(
                _Variant(
                    topic=topic_index,
                    tokens=unique,
                    bigrams=frozenset(_bigrams(words)),
                    weight=sum(idf[w] for w in unique),
                    text=" ".join(words),
                )
            )
        return cls(
            topic_ids=topic_ids,
            variants=variants,
            idf=idf,
            bigram_idf=bigram_idf,
            bound=_bound_tokens(words for _, words in texts),
            answer_words=frozenset(word for words in answer_texts for word in words),
            topic_answer_tokens=[frozenset(words) for words in answer_texts],
            topic_answer_bigrams=[frozenset(_bigrams(words)) for words in answer_texts],
            topic_basis_words=[
                tuple(textnorm.tokens(topic.basis)) for topic in corpus.topics.values()
            ],
            unknown_weight=idf_of(1.0),
            word_counts=_word_counts(corpus),
            corpus_pairs=frozenset(
                itertools.chain(
                    (pair for _, words in texts for pair in _bigrams(words)),
                    (pair for words in answer_texts for pair in _bigrams(words)),
                )
            ),
            topic_core=_topic_core(len(topic_ids), texts),
            answer_threshold=answer_threshold,
            answer_margin=answer_margin,
            suggest_threshold=suggest_threshold,
            clear_lead_threshold=(
                min(answer_threshold, max(suggest_threshold, DEFAULT_CLEAR_LEAD_THRESHOLD))
                if clear_lead_threshold is None
                else clear_lead_threshold
            ),
            clear_lead_margin=clear_lead_margin,
        )

    @classmethod
    def from_config(cls, corpus: Corpus, faq_section: Mapping[str, Any]) -> FaqMatcher:
        """Build with the thresholds of config.toml's ``[faq]`` table (defaults if absent)."""
        return cls.build(
            corpus,
            answer_threshold=float(faq_section.get("answer_threshold", DEFAULT_ANSWER_THRESHOLD)),
            answer_margin=float(faq_section.get("answer_margin", DEFAULT_ANSWER_MARGIN)),
            suggest_threshold=float(
                faq_section.get("suggest_threshold", DEFAULT_SUGGEST_THRESHOLD)
            ),
            clear_lead_threshold=(
                float(faq_section["clear_lead_threshold"])
                if "clear_lead_threshold" in faq_section
                else None
            ),
            clear_lead_margin=float(
                faq_section.get("clear_lead_margin", DEFAULT_CLEAR_LEAD_MARGIN)
            ),
        )

    @property
    def topic_ids(self) -> list[str]:
        """Ids of the indexed topics, in corpus order."""
        return list(self._topic_ids)

    # ------------------------------------------------------------------ matching

    def match(self, question: str) -> FaqDecision:
        """Decide what to do with ``question``."""
        ranked = self.rank(question)
        if not ranked:
            return FaqDecision("none", None, 0.0, [])
        top_id, top_score = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        alternatives = [(tid, score) for tid, score in ranked[1:4] if score > 0.0]
        lead = top_score - second
        confident = (top_score >= self.answer_threshold and lead >= self.answer_margin) or (
            top_score >= self.clear_lead_threshold and lead >= self.clear_lead_margin
        )
        if confident and not self._one_unknown_word(question):
            return FaqDecision("answer", top_id, top_score, alternatives)
        if top_score >= self.suggest_threshold:
            return FaqDecision("suggest", top_id, top_score, alternatives)
        return FaqDecision("none", None, top_score, [])

    def _one_unknown_word(self, question: str) -> bool:
        """A question of one word the corpus never uses ("test"): whatever known word it is
        taken for ("tết"), that guess alone is no ground for a confident answer."""
        words = textnorm.tokens(question)
        return len(words) == 1 and words[0] not in self._word_set and words[0] not in self._glued

    def rank(self, question: str, limit: int = 10) -> list[tuple[str, float]]:
        """The best topics for ``question`` with their scores in [0, 1], best first."""
        query = self._prepare(question)
        if query is None:
            return []
        candidates = self._candidates(query)
        per_topic: dict[int, list[float]] = {}
        for index in candidates:
            variant = self._variants[index]
            per_topic.setdefault(variant.topic, []).append(self._score(query, variant))
        results: list[tuple[float, int]] = []
        for topic_index, scores in per_topic.items():
            scores.sort(reverse=True)
            best = scores[0]
            if len(scores) > 1:
                best += _SECOND_VARIANT_BONUS * scores[1] * (1.0 - best)
            recall, bigram, evidence = self._topic_coverage(query, topic_index)
            total = _W_TOPIC_VARIANT * best + _W_TOPIC_RECALL * recall + _W_TOPIC_BIGRAM * bigram
            if evidence < self._min_evidence:
                total *= (evidence / self._min_evidence) ** _EVIDENCE_POWER
            if query.strangers:
                total *= _STRANGER_FACTOR ** min(query.strangers, 2)
            if self._core_share(query, topic_index) < _CORE_MIN_SHARE:
                total *= _CORE_FACTOR
            if query.novelty > _NOVELTY_FREE:
                total *= 1.0 - _NOVELTY_PENALTY * (query.novelty - _NOVELTY_FREE)
            for phrase in query.subjects:
                if not self._topic_mentions(topic_index, phrase):
                    total *= _OTHER_SUBJECT_FACTOR
            results.append((total, topic_index))
        results.sort(key=lambda item: (-item[0], item[1]))
        return [(self._topic_ids[t], min(1.0, s)) for s, t in results[:limit]]

    def _topic_mentions(self, topic_index: int, phrase: tuple[str, ...]) -> bool:
        """Whether the topic's questions, its answer or its legal basis use ``phrase`` (a
        question naming "Luật Khiếu nại" is about a topic based on that law)."""
        if f" {' '.join(phrase)} " in f" {self._topic_basis[topic_index]} ":
            return True
        if len(phrase) == 1:
            word = phrase[0]
            return (
                word in self._topic_tokens[topic_index]
                or word in self._topic_answer_tokens[topic_index]
            )
        pairs = self._topic_bigrams[topic_index]
        answer_pairs = self._topic_answer_bigrams[topic_index]
        return all(pair in pairs for pair in itertools.pairwise(phrase)) or all(
            pair in answer_pairs for pair in itertools.pairwise(phrase)
        )

    def _core_share(self, query: _Query, topic_index: int) -> float:
        """The largest share of the topic's texts using one of the query's content words."""
        shares = self._topic_core[topic_index]
        idf = self._idf
        best = 0.0
        for _, expansions in query.words:
            for token, credit in expansions:
                share = shares.get(token, 0.0) * credit
                if share > best and not token.startswith("q_") and idf[token] >= _CORE_MIN_IDF:
                    best = share
        return best

    def _topic_coverage(self, query: _Query, topic_index: int) -> tuple[float, float, float]:
        """Shares of the query's weight (words, bigrams) found in the topic's variants, and
        the evidence (weight of the content words found, question markers left out).

        Words and bigrams found only in the topic's answer count for ``_ANSWER_CREDIT``.
        """
        tokens = self._topic_tokens[topic_index]
        answer_tokens = self._topic_answer_tokens[topic_index]
        matched = 0.0
        evidence = 0.0
        for weight, expansions in query.words:
            best = 0.0
            for token, credit in expansions:
                if token in tokens:
                    best = max(best, credit)
                elif token in answer_tokens:
                    best = max(best, credit * _ANSWER_CREDIT)
            matched += weight * best
            if best and not expansions[0][0].startswith("q_"):
                evidence += weight * best
        recall = min(1.0, matched / query.weight) if query.weight > 0.0 else 0.0
        if query.bigram_weight > 0.0:
            pairs = self._topic_bigrams[topic_index]
            answer_pairs = self._topic_answer_bigrams[topic_index]
            found = 0.0
            for pair, weight in query.bigrams:
                if pair in pairs:
                    found += weight
                elif pair in answer_pairs:
                    found += weight * _ANSWER_CREDIT
            bigram = min(1.0, found / query.bigram_weight)
        else:
            bigram = recall
        return recall, bigram, evidence

    def _prepare(self, question: str) -> _Query | None:
        raw = content_tokens(question, self._correct)
        words: list[str] = []
        for word in raw:
            if word not in self._idf and word in self._glued:
                words.extend(self._glued[word])
            else:
                words.append(word)
        if not words:
            return None
        expanded = [self._expand(word) for word in words]
        resolved = [found[0][0] if found else None for found in expanded]
        unknown_weight = self._unknown_weight * min(1.0, _LONG_QUERY_WORDS / len(words))
        present = set(itertools.pairwise(resolved))
        entries: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {}
        strangers: set[str] = set()
        for word, found in zip(words, expanded, strict=True):
            if found:
                weight = self._idf[found[0][0]]
                partner = self._bound.get(found[0][0])
                if partner is not None and partner not in present:
                    # "cao" without "to" before it is not "tố cáo": likely another word.
                    found = tuple((token, credit * _UNBOUND_CREDIT) for token, credit in found)
            elif not word.isalpha() or len(word) <= 2:
                weight = 0.5 * unknown_weight  # numbers, stray letters
            else:
                weight = unknown_weight
                if word not in self._answer_words:
                    strangers.add(word)
            previous = entries.get(word)
            if previous is None or _best_credit(found) > _best_credit(previous[1]):
                entries[word] = (weight, found)
        pairs: dict[tuple[str, str], float] = {}
        for a, b in itertools.pairwise(resolved):
            if a is None or b is None or a == b:
                continue
            pair = (a, b)
            pairs[pair] = self._bigram_idf.get(pair, self._unknown_weight)
        return _Query(
            words=tuple(entries.values()),
            weight=sum(w for w, _ in entries.values()),
            bigrams=tuple(pairs.items()),
            bigram_weight=sum(pairs.values()),
            text=" ".join(words),
            strangers=len(strangers),
            beta2=_F_BETA_SQUARED * min(1.0, _LONG_QUERY_WORDS / len(words)) ** _LONG_BETA_POWER,
            subjects=_other_subjects(words),
            novelty=self._novelty(resolved, words),
        )

    def _correct(self, word: str) -> str:
        """A normalised word the corpus never uses, replaced by the most frequent word of the
        corpus (questions, titles, answers, phrase tables) within one edit (two for long words).
        """
        if word in self._word_set or word in self._glued:
            return word
        cached = self._correct_cache.get(word)
        if cached is not None:
            return cached
        edits = _max_edits(word)
        found = word
        if edits:
            hit = process.extractOne(
                word, self._words_by_frequency, scorer=OSA.distance, score_cutoff=edits
            )
            if hit is not None:
                found = str(hit[0])
        if len(self._correct_cache) < 50_000:
            self._correct_cache[word] = found
        return found

    def _expand(self, word: str) -> tuple[tuple[str, float], ...]:
        if word in self._idf:
            return ((word, 1.0),)
        cached = self._fuzzy_cache.get(word)
        if cached is not None:
            return cached
        edits = _max_edits(word)
        found: tuple[tuple[str, float], ...] = ()
        if edits:
            hits = process.extract(
                word,
                self._vocabulary,
                scorer=OSA.distance,
                score_cutoff=edits,
                limit=_FUZZY_LIMIT,
            )
            found = tuple(
                (str(choice), 1.0 - 0.2 * float(distance) - 0.05 * rank)
                for rank, (choice, distance, _) in enumerate(hits)
                if len(str(choice)) > 2
            )
        if len(self._fuzzy_cache) < 50_000:
            self._fuzzy_cache[word] = found
        return found

    def _novelty(self, resolved: Sequence[str | None], words: Sequence[str]) -> float:
        """Share of the query's adjacent word pairs (markers left out) the corpus never uses."""
        tokens = [
            found if found is not None else word
            for found, word in zip(resolved, words, strict=True)
        ]
        pairs = [
            pair
            for pair in _bigrams(tokens)
            if not pair[0].startswith("q_") and not pair[1].startswith("q_")
        ]
        if not pairs:
            return 0.0
        return sum(pair not in self._corpus_pairs for pair in pairs) / len(pairs)

    def _candidates(self, query: _Query) -> list[int]:
        """Variants worth a full score: the best by summed weight of shared tokens and bigrams,
        at most ``_CANDIDATES_PER_TOPIC`` of each topic.

        Tokens are taken rarest first; the posting list of a very common token is skipped
        once the rarer ones have found enough candidates (it could not change much), unless it
        is one of the first three: a question made only of common words ("tố cáo khiếu nại")
        must not pick its candidates from one posting list, where all of them tie. Shared
        bigrams ("to cao" as a pair) add their weight too: in a long question, topics whose
        syllables are common one by one would otherwise lose their place to variants sharing
        many loose syllables. The per-topic cap keeps a few topics with many similar variants
        from filling the whole list, so that the right topic can at least be suggested.
        """
        postings = self._postings
        terms = sorted(
            (
                (weight * credit, postings[token])
                for weight, expansions in query.words
                for token, credit in expansions
                if token in postings
            ),
            key=lambda item: len(item[1]),
        )
        overlap: dict[int, float] = {}
        for rank, (gain, posting) in enumerate(terms):
            if (
                rank >= _FIRST_TERMS
                and len(posting) > self._long_posting
                and len(overlap) >= _CANDIDATE_VARIANTS
            ):
                break
            for index in posting:
                overlap[index] = overlap.get(index, 0.0) + gain
        bigram_postings = self._bigram_postings
        for pair, weight in query.bigrams:
            for index in bigram_postings.get(pair, ()):
                if index in overlap:
                    overlap[index] += weight * _CANDIDATE_BIGRAM_SHARE
        if len(overlap) <= _CANDIDATE_VARIANTS:
            return list(overlap)
        ordered = heapq.nlargest(
            _CANDIDATE_VARIANTS * 3, overlap, key=lambda index: (overlap[index], -index)
        )
        variants = self._variants
        per_topic: dict[int, int] = {}
        chosen: list[int] = []
        for index in ordered:
            topic = variants[index].topic
            taken = per_topic.get(topic, 0)
            if taken >= _CANDIDATES_PER_TOPIC:
                continue
            per_topic[topic] = taken + 1
            chosen.append(index)
            if len(chosen) >= _CANDIDATE_VARIANTS:
                break
        return chosen

    def _score(self, query: _Query, variant: _Variant) -> float:
        tokens = variant.tokens
        idf = self._idf
        matched_query = 0.0
        variant_credit: dict[str, float] = {}
        for weight, expansions in query.words:
            best = 0.0
            for token, credit in expansions:
                if token in tokens:
                    if credit > best:
                        best = credit
                    if credit > variant_credit.get(token, 0.0):
                        variant_credit[token] = credit
            matched_query += weight * best
        if matched_query <= 0.0:
            return 0.0
        recall = min(1.0, matched_query / query.weight)
        precision = sum(idf[t] * c for t, c in variant_credit.items()) / variant.weight
        f_score = (1.0 + query.beta2) * precision * recall / (query.beta2 * precision + recall)
        if query.bigram_weight > 0.0:
            pairs = variant.bigrams
            bigram = min(
                1.0, sum(w for pair, w in query.bigrams if pair in pairs) / query.bigram_weight
            )
        else:
            bigram = recall
        char = fuzz.ratio(query.text, variant.text) / 100.0
        return _W_F * f_score + _W_BIGRAM * bigram + _W_CHAR * char


# --------------------------------------------------------------------------- evaluation

TARGET_TOP1_ACCURACY = 0.90
TARGET_MAX_WRONG_ANSWERS = 0.02
TARGET_SUGGESTION_HITS = 0.95
TARGET_MAX_OUT_OF_SCOPE_ANSWERS = 0


@dataclass(frozen=True, slots=True)
class EvalFailure:
    """One labelled question the matcher did not handle as hoped."""

    question: str
    expected: str | None
    decision: FaqDecision

    def describe(self) -> str:
        """One line for ``--show-errors``."""
        alternatives = ", ".join(f"{tid} {score:.2f}" for tid, score in self.decision.alternatives)
        return (
            f"[{self.decision.outcome}] expected={self.expected} got={self.decision.topic_id} "
            f"score={self.decision.score:.2f} alt=({alternatives}) q={self.question!r}"
        )


@dataclass(slots=True)
class FaqEvaluation:
    """Figures of a labelled set (question, expected topic id or ``None`` for out of scope)."""

    in_scope: int = 0
    out_of_scope: int = 0
    answered_correct: int = 0
    answered_wrong: int = 0
    suggested: int = 0
    suggested_hit: int = 0
    none_in_scope: int = 0
    answered_out_of_scope: int = 0
    suggested_out_of_scope: int = 0
    failures: list[EvalFailure] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        """Share of in-scope questions answered confidently with the right topic."""
        return self.answered_correct / self.in_scope if self.in_scope else 1.0

    @property
    def wrong_answer_rate(self) -> float:
        """Share of in-scope questions answered confidently with a wrong topic."""
        return self.answered_wrong / self.in_scope if self.in_scope else 0.0

    @property
    def suggestion_hit_rate(self) -> float:
        """Among in-scope "suggest" outcomes, the share offering the right topic."""
        return self.suggested_hit / self.suggested if self.suggested else 1.0

    def targets(self) -> list[tuple[str, str, bool]]:
        """(label, figure, met) for each target of the FAQ issue."""
        return [
            (
                f"top-1 accuracy on in-scope (answers only), target >= {TARGET_TOP1_ACCURACY:.0%}",
                f"{self.top1_accuracy:.1%} ({self.answered_correct}/{self.in_scope})",
                self.top1_accuracy >= TARGET_TOP1_ACCURACY,
            ),
            (
                f"wrong confident answers on in-scope, target <= {TARGET_MAX_WRONG_ANSWERS:.0%}",
                f"{self.wrong_answer_rate:.1%} ({self.answered_wrong}/{self.in_scope})",
                self.wrong_answer_rate <= TARGET_MAX_WRONG_ANSWERS,
            ),
            (
                "right topic among suggestions (outcome suggest), target >= "
                f"{TARGET_SUGGESTION_HITS:.0%}",
                f"{self.suggestion_hit_rate:.1%} ({self.suggested_hit}/{self.suggested})",
                self.suggestion_hit_rate >= TARGET_SUGGESTION_HITS,
            ),
            (
                f"confident answers on out-of-scope, target {TARGET_MAX_OUT_OF_SCOPE_ANSWERS}",
                f"{self.answered_out_of_scope} of {self.out_of_scope}",
                self.answered_out_of_scope <= TARGET_MAX_OUT_OF_SCOPE_ANSWERS,
            ),
        ]

    @property
    def all_targets_met(self) -> bool:
        """Whether every target of :meth:`targets` is met."""
        return all(met for _, _, met in self.targets())


def evaluate(matcher: FaqMatcher, items: Iterable[tuple[str, str | None]]) -> FaqEvaluation:
    """Run ``matcher`` on labelled questions and count outcomes; failures are kept."""
    result = FaqEvaluation()
    for question, expected in items:
        decision = matcher.match(question)
        failed = False
        if expected is None:
            result.out_of_scope += 1
            if decision.outcome == "answer":
                result.answered_out_of_scope += 1
                failed = True
            elif decision.outcome == "suggest":
                result.suggested_out_of_scope += 1
        else:
            result.in_scope += 1
            if decision.outcome == "answer":
                if decision.topic_id == expected:
                    result.answered_correct += 1
                else:
                    result.answered_wrong += 1
                    failed = True
            elif decision.outcome == "suggest":
                result.suggested += 1
                if expected in decision.suggestions:
                    result.suggested_hit += 1
                failed = True
            else:
                result.none_in_scope += 1
                failed = True
        if failed:
            result.failures.append(EvalFailure(question, expected, decision))
    return result


def read_labelled(lines: Iterable[str]) -> list[tuple[str, str | None]]:
    """Parse JSON lines ``{"q": "...", "id": "topic_id" | null}``; blank lines are skipped."""
    items: list[tuple[str, str | None]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError(f"line {number}: expected a JSON object")
        question = record.get("q")
        expected = record.get("id")
        if not isinstance(question, str) or not (expected is None or isinstance(expected, str)):
            raise ValueError(f'line {number}: need "q" (string) and "id" (string or null)')
        items.append((question, expected))
    return items
