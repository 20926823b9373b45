"""Vietnamese normalisation shared by the FAQ matcher and the routing classifier."""

from __future__ import annotations

import unicodedata

import pytest

from bot.rules.textnorm import (
    ABBREVIATIONS,
    FILLERS,
    expand_abbreviations,
    fold,
    nfc,
    normalize,
    squeeze_repeats,
    strip_diacritics,
    tokens,
)


def test_nfc_composes_decomposed_text():
    decomposed = unicodedata.normalize("NFD", "Khiếu nại")
    assert decomposed != "Khiếu nại"
    assert nfc(decomposed) == "Khiếu nại"


def test_fold_is_the_same_for_composed_and_decomposed_input():
    text = "Tố cáo cán bộ xã"
    assert fold(unicodedata.normalize("NFD", text)) == fold(text) == "to cao can bo xa"


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Đơn đề nghị", "don de nghi"),
        ("ĐƯỜNG ĐIỆN", "duong dien"),
        ("đ", "d"),
        ("Hương ước, quy ước!", "huong uoc quy uoc"),
        ("  nhiều   khoảng\ttrắng \n ", "nhieu khoang trang"),
        ("Điều 9.1b)", "dieu 9 1b"),
        ("", ""),
    ],
)
def test_fold(raw, folded):
    assert fold(raw) == folded


def test_strip_diacritics_keeps_punctuation_and_handles_long_text():
    assert strip_diacritics("Xã Hà Bắc, ĐT: 0220") == "xa ha bac, dt: 0220"
    long_text = "Đề nghị công khai ngân sách " * 10
    assert strip_diacritics(long_text) == "de nghi cong khai ngan sach " * 10


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ko dc", ["khong", "duoc"]),
        ("k biet lm j", ["khong", "biet", "lam", "gi"]),
        ("UBND xã", ["uy", "ban", "nhan", "dan", "xa"]),
        ("mttq", ["mat", "tran", "to", "quoc"]),
        ("ntn", ["nhu", "the", "nao"]),
        ("đc", ["duoc"]),
        ("sdt xa", ["so", "dien", "thoai", "xa"]),
        ("kn", ["khieu", "nai"]),
        ("bnhieu ngay", ["bao", "nhieu", "ngay"]),
        ("tgian", ["thoi", "gian"]),
        ("cccd", ["can", "cuoc", "cong", "dan"]),  # not squeezed as a repeat
        ("kooo", ["khong"]),
        (
            "mún gsát nhg vc của ct xã",
            ["muon", "giam", "sat", "nhung", "viec", "cua", "chu", "tich", "xa"],
        ),
        ("gửi tc", ["gui", "to", "cao"]),
    ],
)
def test_abbreviations_are_expanded(raw, expected):
    assert tokens(raw) == expected


def test_abbreviation_table_is_folded():
    for short, full in ABBREVIATIONS.items():
        assert short == fold(short), short
        assert full == fold(full), full
        assert " " not in short, short


def test_expand_abbreviations_keeps_unknown_words():
    assert expand_abbreviations(["don", "ko", "ro"]) == ["don", "khong", "ro"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Cho em hỏi ạ", ["cho", "em", "hoi"]),
        ("ad ơi, khiếu nại nhé", ["khieu", "nai"]),
        ("alo alo", ["alo", "alo"]),  # only fillers: kept rather than empty
        ("hihi tố cáo nha", ["to", "cao"]),
    ],
)
def test_fillers_are_dropped(raw, expected):
    assert tokens(raw) == expected


def test_fillers_kept_when_asked():
    assert tokens("khiếu nại ạ", drop_fillers=False) == ["khieu", "nai", "a"]


def test_filler_table_is_folded():
    assert all(word == fold(word) for word in FILLERS)


def test_repeated_letters_are_squeezed():
    assert squeeze_repeats("nheeee") == "nhe"
    assert squeeze_repeats("khong") == "khong"
    assert squeeze_repeats("1000") == "1000"
    assert tokens("khiếu nạiii nhéee") == ["khieu", "nai"]


def test_normalize_is_the_joined_pipeline():
    assert normalize("Cho hỏi: UBND xã ở đâu ạ?") == "cho hoi uy ban nhan dan xa o dau"
    assert normalize("") == ""
