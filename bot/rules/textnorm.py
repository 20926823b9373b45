"""Vietnamese text normalisation shared by the FAQ matcher and the routing classifier.

Citizens type on phones with or without diacritics, with chat abbreviations ("ko", "dc",
"ntn") and polite fillers ("ạ", "ơi", "nhé"). Matching is done on a *folded* form: NFC,
lower case, diacritics removed, ``đ`` → ``d``, punctuation turned into spaces, then the
domain abbreviations expanded and the fillers dropped. One function per step so that callers
can pick what they need (``fold`` alone keeps every word; ``normalize`` is the full pipeline).
``tokens`` also collapses a letter typed three or more times ("nhéeee" → "nhe"); words that
are abbreviations ("cccd") are looked up before that.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

# Abbreviations as citizens type them, keyed by their folded form. Values are folded too.
# Curated for this domain: chat shorthand plus the names of bodies and papers.
ABBREVIATIONS: Mapping[str, str] = {
    # chat shorthand
    "k": "khong",
    "ko": "khong",
    "kh": "khong",
    "kg": "khong",
    "khg": "khong",
    "hok": "khong",
    "hem": "khong",
    "dc": "duoc",
    "dk": "duoc",
    "j": "gi",
    "ji": "gi",
    "ntn": "nhu the nao",
    "bn": "bao nhieu",
    "bnh": "bao nhieu",
    "bh": "bao gio",
    "ng": "nguoi",
    "nguoj": "nguoi",
    "vs": "voi",
    "cx": "cung",
    "cg": "cung",
    "mk": "minh",
    "mik": "minh",
    "r": "roi",
    "ms": "moi",
    "trc": "truoc",
    "z": "vay",
    "lm": "lam",
    "tks": "cam on",
    "thanks": "cam on",
    "sdt": "so dien thoai",
    "dthoai": "dien thoai",
    "dt": "dien thoai",
    # more chat shorthand (added for the FAQ matcher)
    "khum": "khong",
    "hk": "khong",
    "bik": "biet",
    "bit": "biet",
    "bnhieu": "bao nhieu",
    "bnhiu": "bao nhieu",
    "bjo": "bao gio",
    "bgio": "bao gio",
    "ntnao": "nhu the nao",
    "tnao": "the nao",
    "lsao": "lam sao",
    "hnay": "hom nay",
    "ngta": "nguoi ta",
    "mn": "moi nguoi",
    "mng": "moi nguoi",
    "tgian": "thoi gian",
    "tg": "thoi gian",
    "ttin": "thong tin",
    "kq": "ket qua",
    "lv": "lam viec",
    "cb": "can bo",
    "cq": "co quan",
    "qd": "quyet dinh",
    "wa": "qua",
    "mun": "muon",
    "nhg": "nhung",
    "nhug": "nhung",
    "vc": "viec",
    "vde": "van de",
    "thui": "thoi",
    "hs": "ho so",
    "ktra": "kiem tra",
    "gsat": "giam sat",
    "public": "cong khai",
    # bodies, people and papers
    "ubnd": "uy ban nhan dan",
    "ub": "uy ban",
    "hdnd": "hoi dong nhan dan",
    "mttq": "mat tran to quoc",
    "pct": "pho chu tich",
    "ctx": "chu tich xa",
    "ct": "chu tich",
    "tc": "to cao",
    "cax": "cong an xa",
    "tdc": "tai dinh cu",
    "gpmb": "giai phong mat bang",
    "qsdd": "quyen su dung dat",
    "gcn": "giay chung nhan",
    "cccd": "can cuoc cong dan",
    "cmnd": "chung minh nhan dan",
    "bhyt": "bao hiem y te",
    "bhxh": "bao hiem xa hoi",
    "nvqs": "nghia vu quan su",
    "tthc": "thu tuc hanh chinh",
    "dvc": "dich vu cong",
    "pakn": "phan anh kien nghi",
    "kntc": "khieu nai to cao",
    "dccs": "dan chu co so",
    "bttnd": "ban thanh tra nhan dan",
    "gsdt": "giam sat dau tu",
    "vhxh": "van hoa xa hoi",
    "tyt": "tram y te",
    "atvstp": "an toan ve sinh thuc pham",
    "attp": "an toan thuc pham",
    "bchqs": "ban chi huy quan su",
    "tdp": "to dan pho",
    "kn": "khieu nai",
    "ttnd": "thanh tra nhan dan",
    "bgsdt": "ban giam sat dau tu",
    "gsdtcd": "giam sat dau tu cong dong",
    "tcd": "tiep cong dan",
}

# Polite particles and forms of address that carry no meaning for matching. Folded forms.
FILLERS: frozenset[str] = frozenset(
    {
        "a",  # ạ, à
        "oi",  # ơi
        "nhe",  # nhé
        "nha",  # nha, nhá
        "nhi",  # nhỉ
        "ah",
        "ak",
        "uh",
        "um",
        "ad",
        "admin",
        "alo",
        "uk",
        "uhm",
        "nhen",
        "nghen",
        "hihi",
        "hehe",
        "haha",
        "huhu",
    }
)

_NON_WORD = re.compile(r"[^0-9a-z]+")
# A letter typed three or more times in a row ("nhéee", "alooo"): no Vietnamese word has that.
_REPEATED_LETTER = re.compile(r"([a-z])\1{2,}")


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC, the form every stored text is kept in."""
    return unicodedata.normalize("NFC", text)


@lru_cache(maxsize=8192)
def _fold_word_cached(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return without_marks.replace("đ", "d").replace("Đ", "d")


def strip_diacritics(text: str) -> str:
    """Lower-case ``text`` and remove Vietnamese diacritics (``đ`` becomes ``d``)."""
    return _fold_word_cached(text) if len(text) <= 64 else _fold_uncached(text)


def _fold_uncached(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return without_marks.replace("đ", "d")


def fold(text: str) -> str:
    """Folded form: lower case, no diacritics, only ASCII letters and digits between spaces."""
    return " ".join(_NON_WORD.sub(" ", strip_diacritics(text)).split())


def squeeze_repeats(word: str) -> str:
    """Collapse a letter repeated three or more times into one ("nheee" → "nhe")."""
    return _REPEATED_LETTER.sub(r"\1", word)


def expand_abbreviations(words: list[str]) -> list[str]:
    """Replace known abbreviations (folded words) by their folded full form."""
    expanded: list[str] = []
    for word in words:
        replacement = ABBREVIATIONS.get(word)
        if replacement is None:
            expanded.append(word)
        else:
            expanded.extend(replacement.split())
    return expanded


def tokens(text: str, *, drop_fillers: bool = True) -> list[str]:
    """Folded, abbreviation-expanded words of ``text``; fillers dropped unless asked not to."""
    folded = [w if w in ABBREVIATIONS else squeeze_repeats(w) for w in fold(text).split()]
    words = expand_abbreviations(folded)
    if drop_fillers:
        kept = [w for w in words if w not in FILLERS]
        # A message made only of fillers ("ạ", "alo") keeps them rather than becoming empty.
        return kept or words
    return words


def normalize(text: str) -> str:
    """The full pipeline as one string: what matchers index and compare."""
    return " ".join(tokens(text))
