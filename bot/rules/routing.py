"""Routing classifier: from a citizen's free text, decide kind, category and unit.

The decision is rule-based and explainable: keyword phrases per category and per kind are
kept in TOML files (``bot/rules/data/routing_keywords.toml`` plus a commune's own files), so
a commune extends them without touching code. The classifier receives plain mappings and
never reads ``config.toml`` itself.

How a text is scored
--------------------
1. *Tokens.* The text is cut into words, clauses and sentences (a contiguous phrase never
   spans a comma or a full stop; a pair rule never spans a full stop); each word is folded
   (lower case, no diacritics, ``đ`` → ``d``) with :mod:`bot.rules.textnorm`, chat and
   domain abbreviations are expanded (``ko`` → ``khong``, ``ubnd`` → ``uy ban nhan dan``,
   plus the keyword files' own), and an amount typed as one word is split (``3tr`` →
   ``3 triệu``, ``500k`` → ``500 nghìn``). Each word also keeps its *accent key* (``đ``,
   vowel marks and tone): folded matching accepts texts typed without diacritics, and when
   the citizen did type them (at least 30 % of the words carry a mark) they must agree
   (``giá đắt`` is not ``đất``, ``hố ga`` is not ``gà``). Phrases written ``=hôi`` match
   only with these very diacritics (``hoi`` may be ``hỏi``).
2. *Phrase hits.* Phrases are looked up on token boundaries through an index on their first
   word (or first two words). Phrases may contain gaps (``quyết định * sai``). Typos are
   caught by rapidfuzz
   on a few candidates only: words that are not Vietnamese syllables and not in the
   keyword or common-word lists (``nhiemm``, ``trrom``). The n-grams around such a word are
   compared with phrases of similar length (``fuzz.ratio`` ≥ 88), and phrases of 2-4 words
   may have that one word one edit away (``Levenshtein.distance`` = 1). A one-edit change
   of a real syllable is usually another real word, so real syllables are never "fixed".
   Fuzzy hits weigh less than exact ones.
3. *Overlaps.* When a longer phrase covers a shorter one, only the longer one counts
   (``ô nhiễm tiếng ồn`` is environment, not the noise in ``tiếng ồn``); *blocker* phrases
   such as ``điện thoại`` only hide the shorter phrases inside them.
4. *Category.* Weights are summed per category. The confidence grows with the evidence of
   the best category and with its margin over the second one; no evidence at all gives the
   fallback category (``khac``) with confidence 0.
5. *Kind.* ``phan_anh_kien_nghi`` has a fixed prior; cues for ``khieu_nai`` (contesting a
   decision) and ``to_cao`` (wrongdoing alleged) must beat it. Khiếu nại and tố cáo go to the
   complaint unit whatever the category. Besides single phrases, *pair rules* catch the many
   texts that carry no cue word: a phrase of one list and a phrase of another in the same
   sentence, a few words apart, such as an official and a money verb (``trưởng thôn`` …
   ``bỏ túi``: tố cáo) or an adverse act and a word contesting it (``bị phạt`` … ``vô lý``:
   khiếu nại). Counter-cues (``nhận tiền hỗ trợ``, ``giả danh``) weigh for a plain phản ánh
   and hide the pair phrases inside them.

The combined confidence is the product of the kind and category confidences. Below the
configured ``[routing] min_confidence`` the caller lets the citizen pick the category.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot.configerror import ConfigError
from bot.rules import textnorm

KIND_FEEDBACK = "phan_anh_kien_nghi"
KIND_COMPLAINT = "khieu_nai"
KIND_DENUNCIATION = "to_cao"
KINDS: tuple[str, ...] = (KIND_FEEDBACK, KIND_COMPLAINT, KIND_DENUNCIATION)

# Weight of each phrase list in a keyword file; ``weights`` gives any other value.
TIER_WEIGHTS: Mapping[str, float] = {"phrases": 1.0, "strong": 2.0, "weak": 0.5}
MAX_WEIGHT = 10.0
# Words allowed between the parts of a phrase written with " * ".
MAX_GAP = 8
# Fuzzy matching: rapidfuzz ratio cut-off, shortest folded string compared, hit factors.
FUZZY_CUTOFF = 88.0
FUZZY_MIN_LENGTH = 7
FUZZY_CLOSE_SCORE = 95.0
FUZZY_FACTOR_CLOSE = 0.85
FUZZY_FACTOR = 0.7
FUZZY_CACHE_SIZE = 50_000
SUBSTITUTION_FACTOR = 0.6
SUBSTITUTION_MIN_LENGTH = 4
MAX_FUZZY_NGRAM = 3
# Kind decision: prior evidence for a plain phản ánh, kiến nghị, and the slope of confidence.
FEEDBACK_PRIOR = 1.0
KIND_SLOPE = 1.2
# Category confidence: evidence scale and the share of confidence earned by the margin.
EVIDENCE_SCALE = 1.5
MARGIN_SHARE = 0.45
# A text is "typed with diacritics" when at least this share of its words carry marks. Many
# syllables carry none ("khai sinh cho con"), but whoever types some marks types them all.
ACCENTED_TEXT_RATIO = 0.3

_SPACE_KIND = "kind"
_SPACE_CATEGORY = "category"
_SPACE_BLOCKER = "blocker"
_SPACE_PAIR = "pair"
# Coverage group of the counter-cues (phản ánh kind phrases), which also hide pair phrases.
_COUNTER_GROUP = "counter"
_TOP_LEVEL_KEYS = ("abbreviations", "blockers", "categories", "kinds", "lexicon", "pairs")
# Pair rules: default and largest number of words allowed between their two phrases.
PAIR_WINDOW = 10
MAX_PAIR_WINDOW = 30
_PAIR_KEYS = ("kind", "weight", "window", "ordered", "first", "second")

_WORD_RE = re.compile(r"[^\W_]+")
# Words, or the punctuation that ends a clause: contiguous phrases never span a clause.
_WORD_OR_BREAK_RE = re.compile(r"([^\W_]+)|[,.;:!?…()\[\]\n\r\"“”]+")
# Punctuation that ends a sentence (a "." or "," between digits is a number, not an end).
_SENTENCE_END = frozenset(".;!?…\n\r")
_NUMBER_SEPARATOR_RE = re.compile(r"(?<=\d)[.,](?=\d)")
# Tokens standing for a clause break and for a sentence end in a text.
_BREAK = "|"
_STOP = "||"
_BREAKS = frozenset((_BREAK, _STOP))
_TONE_MARKS: Mapping[str, str] = {
    "\u0300": "f",  # huyền
    "\u0301": "s",  # sắc
    "\u0303": "x",  # ngã
    "\u0309": "r",  # hỏi
    "\u0323": "j",  # nặng
}

# (vowel letters with their quality marks, tone letter or ""); None for an unmarked word.
AccentKey = tuple[str, str]
# Accent of a word whose diacritics are unknown (from a folded abbreviation expansion).
ANY_ACCENT: AccentKey = ("*", "*")
_Token = tuple[str, AccentKey | None]


@dataclass(frozen=True)
class RoutingDecision:
    """Where a text goes. ``confidence`` combines the kind and category confidences."""

    kind: str
    category: str
    unit: str
    confidence: float
    kind_confidence: float
    category_confidence: float

    def as_json_dict(self) -> dict[str, object]:
        """The ``pakn route "TEXT" --json`` output: kind, category, unit, rounded confidence."""
        return {
            "kind": self.kind,
            "category": self.category,
            "unit": self.unit,
            "confidence": round(self.confidence, 2),
        }


def default_keyword_path() -> Path:
    """The keyword file shipped with the bot."""
    return Path(__file__).resolve().parent / "data" / "routing_keywords.toml"


# --------------------------------------------------------------------------- tokens


def _accent_key(word: str) -> AccentKey | None:
    """Vowel marks and tone of ``word`` (lower case), or None when it carries no mark.

    The tone is kept apart so that old and new tone placement (``hoà``/``hòa``) agree. ``đ``
    counts as a mark: whoever types diacritics types it (``diện`` is not ``điện``).
    """
    decomposed = unicodedata.normalize("NFD", word)
    tone = ""
    kept: list[str] = []
    marked = "đ" in word
    for char in decomposed:
        mark = _TONE_MARKS.get(char)
        if mark is not None:
            tone = mark
            marked = True
        else:
            if unicodedata.combining(char):
                marked = True
            kept.append(char)
    if not marked:
        return None
    return unicodedata.normalize("NFC", "".join(kept)), tone


# An amount written in one word ("3tr", "500k", "20củ"): the number, then its unit in words.
_AMOUNT_RE = re.compile(r"(\d+)(tr|trieu|k|ng|nghin|ngan|cu|d|dong)")
_AMOUNT_UNITS: Mapping[str, str] = {
    "tr": "trieu",
    "trieu": "trieu",
    "k": "nghin",
    "ng": "nghin",
    "nghin": "nghin",
    "ngan": "nghin",
    "cu": "cu",
    "d": "dong",
    "dong": "dong",
}


@lru_cache(maxsize=32768)
def _word_tokens(word: str) -> tuple[_Token, ...]:
    """Folded tokens of one lower-case word, each with its accent key."""
    parts = textnorm.fold(word).split()
    if len(parts) != 1:
        return tuple((part, None) for part in parts)
    folded = parts[0]
    amount = _AMOUNT_RE.fullmatch(folded)
    if amount is not None:
        return ((amount.group(1), None), (_AMOUNT_UNITS[amount.group(2)], ANY_ACCENT))
    if len(folded) > 2 and folded.startswith("dd"):
        folded = folded[1:]  # "đ" typed the Telex way
    return ((folded, _accent_key(word)),)


def _split_words(text: str) -> list[tuple[str, AccentKey | None]]:
    """Folded tokens of ``text`` before abbreviations are expanded."""
    result: list[tuple[str, AccentKey | None]] = []
    for word in _WORD_RE.findall(textnorm.nfc(text).lower()):
        result.extend(_word_tokens(word))
    return result


def _split_clauses(text: str) -> list[tuple[str, AccentKey | None]]:
    """Like :func:`_split_words`, with a ``_BREAK`` token where a clause ends.

    The break is a ``_STOP`` token when the sentence ends (``.``, ``!``, ``?``, ``;``, a new
    line): pair rules never join two sentences.
    """
    result: list[tuple[str, AccentKey | None]] = []
    lowered = textnorm.nfc(text).lower()
    for match in _WORD_OR_BREAK_RE.finditer(lowered):
        word = match.group(1)
        if word is not None:
            result.extend(_word_tokens(word))
            continue
        if not result:
            continue
        ends_sentence = not _SENTENCE_END.isdisjoint(match.group()) and not (
            _NUMBER_SEPARATOR_RE.match(lowered, match.start()) and match.end() - match.start() == 1
        )
        if result[-1][0] == _BREAK:
            if ends_sentence:
                result[-1] = (_STOP, None)
        elif result[-1][0] != _STOP:
            result.append((_STOP if ends_sentence else _BREAK, None))
    return result


def _accents_agree(
    text: AccentKey | None, phrase: AccentKey | None, *, strict: bool, exact: bool
) -> bool:
    """Whether a text word may be the phrase word, given the diacritics both carry.

    ``phrase`` is None when the phrase was written without any diacritics, and either side
    is ``ANY_ACCENT`` for a word from a folded abbreviation: nothing to check (but such a
    word cannot satisfy an ``exact`` phrase). In a text typed with diacritics (``strict``),
    and for ``exact`` phrases (written ``=…`` in the keyword file), a word must carry
    exactly the phrase word's marks: an unmarked word there really is unmarked (``ga`` is
    not ``gà``). In a text typed without them, an unmarked word agrees with anything and a
    marked one is compared on the marks it carries.
    """
    if phrase is None or phrase == ANY_ACCENT:
        return True
    if text == ANY_ACCENT:
        return not exact
    if text is None:
        if strict or exact:
            return phrase[1] == "" and phrase[0].isascii()
        return True
    if strict or exact:
        return text == phrase
    text_vowels, text_tone = text
    phrase_vowels, phrase_tone = phrase
    if text_tone != phrase_tone and text_tone:
        return False
    return text_vowels.replace("đ", "d").isascii() or text_vowels == phrase_vowels


# Folded Vietnamese syllable: initial consonant, vowel group, final consonant. Words that do
# not fit are typos (or foreign words), the only ones the fuzzy matcher tries.
_SYLLABLE_RE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(?:uye|uya|uoi|uou|ieu|yeu|oai|oay|uay|uai|oeo|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|"
    r"ua|ue|ui|uo|uy|ya|ye|uu|oo|a|e|i|o|u|y)"
    r"(?:ch|ng|nh|c|m|n|p|t)?"
)


def is_syllable(word: str) -> bool:
    """Whether a folded word has the shape of a Vietnamese syllable."""
    return _SYLLABLE_RE.fullmatch(word) is not None


# --------------------------------------------------------------------------- keyword table


def _config_key(source: Path, key: str) -> str:
    return f"{source}:{key}"


def _string_list(value: object, source: Path, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(_config_key(source, key), "must be a list of strings")
    items = [item.strip() for item in value if isinstance(item, str)]
    for item in items:
        _check_phrase(item, source, key)
    return items


def _check_phrase(phrase: str, source: Path, key: str) -> None:
    """A phrase needs a word, and a word in every part around a " * " gap."""
    if not all(textnorm.fold(part) for part in phrase.removeprefix("=").split("*")):
        raise ConfigError(
            _config_key(source, key), f"phrase {phrase!r} is empty or has an empty part"
        )


def _phrase_weights(value: object, source: Path, key: str) -> dict[str, float]:
    """Read one ``[categories.X]`` or ``[kinds.X]`` table: phrase lists and weights."""
    if not isinstance(value, dict):
        raise ConfigError(_config_key(source, key), "must be a table")
    result: dict[str, float] = {}
    for name, item in value.items():
        if name in TIER_WEIGHTS:
            for phrase in _string_list(item, source, f"{key}.{name}"):
                result[phrase] = TIER_WEIGHTS[name]
        elif name != "weights":
            raise ConfigError(
                _config_key(source, f"{key}.{name}"),
                "unknown key; use phrases, strong, weak or weights",
            )
    weights = value.get("weights", {})
    if not isinstance(weights, dict):
        raise ConfigError(_config_key(source, f"{key}.weights"), "must be a table")
    for phrase, weight in weights.items():
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0 <= weight <= MAX_WEIGHT
        ):
            raise ConfigError(
                _config_key(source, f"{key}.weights"),
                f"weight of {phrase!r} must be a number from 0 to {MAX_WEIGHT:g}",
            )
        _check_phrase(phrase, source, f"{key}.weights")
        result[phrase.strip()] = float(weight)
    return result


@dataclass
class PairRule:
    """A kind cue made of two phrase lists: it counts when a phrase of each list occurs in
    one sentence, at most ``window`` words apart (``first`` before ``second`` if ``ordered``).

    Neither list need be a cue on its own: an official named near a money verb (``trưởng
    thôn`` … ``bỏ túi``) is a tố cáo, an adverse act near a word that contests it (``bị
    phạt`` … ``vô lý``) is a khiếu nại. Weight 0 switches the rule off.
    """

    kind: str = ""
    weight: float = 1.5
    window: int = PAIR_WINDOW
    ordered: bool = False
    first: list[str] = field(default_factory=list)
    second: list[str] = field(default_factory=list)


def _number(value: object, source: Path, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(_config_key(source, key), f"must be a number from {low:g} to {high:g}")
    return float(value)


class KeywordTable:
    """Phrases per category and per kind, with abbreviations, blockers and common words.

    Files are read in order: the first is the default file, the others extend it (their
    phrases are appended; a weight they give replaces an earlier one, 0 switches a phrase
    off). Category ids are checked against the configured categories by
    :class:`RoutingClassifier` (or by :meth:`load` when ``categories`` is given): an
    unknown id in an extension file is a :class:`ConfigError`; in the default file it is
    skipped, since a commune may drop a default category.
    """

    def __init__(self) -> None:
        self.categories: dict[str, dict[str, float]] = {}
        self.kinds: dict[str, dict[str, float]] = {kind: {} for kind in KINDS}
        self.pairs: dict[str, PairRule] = {}
        self.blockers: list[str] = []
        self.abbreviations: dict[str, str] = {}
        self.common_words: set[str] = set()
        # For each category id, the files that gave it phrases and whether each is the default.
        self.category_sources: dict[str, list[tuple[Path, bool]]] = {}
        self.paths: tuple[Path, ...] = ()

    @classmethod
    def load(
        cls, paths: Sequence[Path], *, categories: Sequence[str] | None = None
    ) -> KeywordTable:
        """Read ``paths`` (default file first); check category ids when ``categories`` given."""
        table = cls()
        for index, path in enumerate(paths):
            table.extend_from_file(Path(path), is_default=index == 0)
        if categories is not None:
            table.check_categories(categories)
        return table

    def extend_from_file(self, path: Path, *, is_default: bool = False) -> None:
        """Add the content of one keyword file."""
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError:
            raise ConfigError(str(path), "keyword file not found") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(str(path), f"cannot read keyword file: {exc}") from None
        self.extend(data, source=path, is_default=is_default)

    def extend(self, data: Mapping[str, object], *, source: Path, is_default: bool = False) -> None:
        """Add the content of one parsed keyword file (``source`` names it in errors)."""
        for key in data:
            if key not in _TOP_LEVEL_KEYS:
                raise ConfigError(
                    _config_key(source, key),
                    f"unknown section; expected one of {', '.join(_TOP_LEVEL_KEYS)}",
                )
        self._extend_categories(data.get("categories", {}), source, is_default)
        self._extend_kinds(data.get("kinds", {}), source)
        self._extend_pairs(data.get("pairs", {}), source)
        blockers = data.get("blockers", {})
        if not isinstance(blockers, dict) or set(blockers) - {"phrases"}:
            raise ConfigError(_config_key(source, "blockers"), "must be a table with `phrases`")
        self.blockers.extend(_string_list(blockers.get("phrases", []), source, "blockers.phrases"))
        self._extend_abbreviations(data.get("abbreviations", {}), source)
        self._extend_lexicon(data.get("lexicon", {}), source)
        self.paths = (*self.paths, source)

    def _extend_categories(self, value: object, source: Path, is_default: bool) -> None:
        if not isinstance(value, dict):
            raise ConfigError(_config_key(source, "categories"), "must be a table of tables")
        for category_id, section in value.items():
            key = f"categories.{category_id}"
            weights = _phrase_weights(section, source, key)
            self.categories.setdefault(category_id, {}).update(weights)
            self.category_sources.setdefault(category_id, []).append((source, is_default))

    def _extend_kinds(self, value: object, source: Path) -> None:
        if not isinstance(value, dict):
            raise ConfigError(_config_key(source, "kinds"), "must be a table of tables")
        for kind, section in value.items():
            if kind not in KINDS:
                raise ConfigError(
                    _config_key(source, f"kinds.{kind}"),
                    f"unknown kind; expected one of {', '.join(KINDS)}",
                )
            self.kinds[kind].update(_phrase_weights(section, source, f"kinds.{kind}"))

    def _extend_pairs(self, value: object, source: Path) -> None:
        """Read ``[pairs.<name>]`` tables; a later file appends phrases and replaces values."""
        if not isinstance(value, dict):
            raise ConfigError(_config_key(source, "pairs"), "must be a table of tables")
        for name, section in value.items():
            key = f"pairs.{name}"
            if not isinstance(section, dict):
                raise ConfigError(_config_key(source, key), "must be a table")
            for item in section:
                if item not in _PAIR_KEYS:
                    raise ConfigError(
                        _config_key(source, f"{key}.{item}"),
                        f"unknown key; use {', '.join(_PAIR_KEYS)}",
                    )
            rule = self.pairs.get(name) or PairRule()
            kind = section.get("kind", rule.kind)
            if kind not in KINDS:
                raise ConfigError(
                    _config_key(source, f"{key}.kind"), f"must be one of {', '.join(KINDS)}"
                )
            rule.kind = kind
            if "weight" in section:
                rule.weight = _number(section["weight"], source, f"{key}.weight", 0, MAX_WEIGHT)
            if "window" in section:
                window = section["window"]
                if not isinstance(window, int) or isinstance(window, bool):
                    raise ConfigError(_config_key(source, f"{key}.window"), "must be an integer")
                rule.window = int(_number(window, source, f"{key}.window", 0, MAX_PAIR_WINDOW))
            if "ordered" in section:
                if not isinstance(section["ordered"], bool):
                    raise ConfigError(
                        _config_key(source, f"{key}.ordered"), "must be true or false"
                    )
                rule.ordered = section["ordered"]
            rule.first.extend(_string_list(section.get("first", []), source, f"{key}.first"))
            rule.second.extend(_string_list(section.get("second", []), source, f"{key}.second"))
            if not rule.first or not rule.second:
                raise ConfigError(_config_key(source, key), "needs phrases in `first` and `second`")
            self.pairs[name] = rule

    def _extend_abbreviations(self, value: object, source: Path) -> None:
        if not isinstance(value, dict):
            raise ConfigError(_config_key(source, "abbreviations"), "must be a table")
        for short, full in value.items():
            folded = textnorm.fold(short)
            if not isinstance(full, str) or not full.strip() or len(folded.split()) != 1:
                raise ConfigError(
                    _config_key(source, f"abbreviations.{short}"),
                    "must map one word to a non-empty text",
                )
            self.abbreviations[folded] = full.strip()

    def _extend_lexicon(self, value: object, source: Path) -> None:
        if not isinstance(value, dict) or set(value) - {"common"}:
            raise ConfigError(_config_key(source, "lexicon"), "must be a table with `common`")
        common = value.get("common", "")
        if isinstance(common, list):
            common = " ".join(_string_list(common, source, "lexicon.common"))
        if not isinstance(common, str):
            raise ConfigError(_config_key(source, "lexicon.common"), "must be a text or a list")
        self.common_words.update(textnorm.fold(common).split())

    def check_categories(self, categories: Sequence[str] | Mapping[str, str]) -> None:
        """Raise :class:`ConfigError` when an extension file names an unknown category."""
        known = set(categories)
        for category_id, sources in self.category_sources.items():
            if category_id in known:
                continue
            for source, is_default in sources:
                if not is_default:
                    raise ConfigError(
                        _config_key(source, f"categories.{category_id}"),
                        f"unknown category id {category_id!r}; known ids: "
                        + ", ".join(sorted(known)),
                    )


# --------------------------------------------------------------------------- classifier


@dataclass(frozen=True)
class _Phrase:
    """One compiled phrase: folded tokens per part (parts are separated by gaps)."""

    text: str
    space: str
    label: str
    weight: float
    parts: tuple[tuple[str, ...], ...]
    accents: tuple[tuple[AccentKey | None, ...], ...]
    exact: bool = False
    # For a pair rule's phrase: 1 for its ``first`` list, 2 for its ``second`` list.
    side: int = 0

    @property
    def contiguous(self) -> bool:
        return len(self.parts) == 1

    @property
    def folded(self) -> str:
        return " * ".join(" ".join(part) for part in self.parts)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    phrase_id: int
    factor: float


@dataclass(frozen=True)
class _PairMatch:
    """The best co-occurrence of one pair rule in a text."""

    name: str
    kind: str
    weight: float
    first: _Hit
    second: _Hit


class RoutingClassifier:
    """Decide kind, category and unit of a text from a :class:`KeywordTable`.

    ``category_units`` maps every configured category id to its unit; ``complaint_unit``
    receives khiếu nại and tố cáo whatever their category; ``fallback_category`` is chosen
    when the text gives no evidence at all.
    """

    def __init__(
        self,
        keywords: KeywordTable,
        category_units: Mapping[str, str],
        *,
        complaint_unit: str = "van_phong",
        fallback_category: str = "khac",
    ) -> None:
        if fallback_category not in category_units:
            raise ConfigError(
                "categories", f"the fallback category {fallback_category!r} is not configured"
            )
        keywords.check_categories(list(category_units))
        self._category_units = dict(category_units)
        self._category_order = {cid: index for index, cid in enumerate(category_units)}
        self._complaint_unit = complaint_unit
        self._fallback = fallback_category
        self._abbreviations: dict[str, tuple[_Token, ...]] = {}
        for short, full in textnorm.ABBREVIATIONS.items():
            self._abbreviations[short] = tuple((word, ANY_ACCENT) for word in full.split())
        for short, full in keywords.abbreviations.items():
            self._abbreviations[short] = tuple(_split_words(full))

        self._phrases: list[_Phrase] = []
        for category_id, phrases in keywords.categories.items():
            if category_id in self._category_units:
                self._add_phrases(_SPACE_CATEGORY, category_id, phrases)
        for kind, phrases in keywords.kinds.items():
            self._add_phrases(_SPACE_KIND, kind, phrases)
        self._pairs = {name: rule for name, rule in keywords.pairs.items() if rule.weight > 0}
        for name, rule in self._pairs.items():
            self._add_phrases(_SPACE_PAIR, name, dict.fromkeys(rule.first, 1.0), side=1)
            self._add_phrases(_SPACE_PAIR, name, dict.fromkeys(rule.second, 1.0), side=2)
        self._add_phrases(_SPACE_BLOCKER, "", dict.fromkeys(keywords.blockers, 0.0))

        # Phrases by first word (first part of one word) or by first two words.
        self._word_index: dict[str, list[int]] = {}
        self._pair_index: dict[tuple[str, str], list[int]] = {}
        self._substitution_index: dict[str, list[int]] = {}
        self._substitution_lengths: set[int] = set()
        self._fuzzy_targets: dict[str, list[int]] = {}
        for phrase_id, phrase in enumerate(self._phrases):
            first = phrase.parts[0]
            if len(first) == 1:
                self._word_index.setdefault(first[0], []).append(phrase_id)
            else:
                self._pair_index.setdefault((first[0], first[1]), []).append(phrase_id)
            if not phrase.contiguous or phrase.exact:
                continue
            words = phrase.parts[0]
            if phrase.space != _SPACE_BLOCKER and len(" ".join(words)) >= FUZZY_MIN_LENGTH:
                self._fuzzy_targets.setdefault(" ".join(words), []).append(phrase_id)
            if phrase.space != _SPACE_BLOCKER and 2 <= len(words) <= 4:
                for position, word in enumerate(words):
                    if len(word) >= SUBSTITUTION_MIN_LENGTH:
                        key = _substitution_key(words, position)
                        self._substitution_index.setdefault(key, []).append(phrase_id)
                        self._substitution_lengths.add(len(words))
        self._phrase_words: frozenset[str] = frozenset(
            word for phrase in self._phrases for part in phrase.parts for word in part
        )
        self._known_words: frozenset[str] = self._phrase_words | frozenset(keywords.common_words)
        self._fuzzy_strings: list[str] = sorted(self._fuzzy_targets, key=len)
        self._fuzzy_choices: dict[int, list[str]] = {}
        self._fuzzy_cache: dict[str, tuple[tuple[int, float], ...]] = {}

    # ---------------------------------------------------------------- compilation

    def _add_phrases(
        self, space: str, label: str, phrases: Mapping[str, float], *, side: int = 0
    ) -> None:
        for text, weight in phrases.items():
            if weight <= 0 and space != _SPACE_BLOCKER:
                continue
            exact = text.startswith("=")
            raw_parts = [_split_words(part) for part in text.removeprefix("=").split("*")]
            if not all(raw_parts):  # KeywordTable refuses such phrases; be safe anyway
                raise ValueError(f"routing phrase {text!r} has an empty part")
            # Written with diacritics: its unmarked words are really unmarked ("chi tiêu").
            accented = any(accent is not None for part in raw_parts for _, accent in part)
            parts: list[tuple[str, ...]] = []
            accents: list[tuple[AccentKey | None, ...]] = []
            for raw_part in raw_parts:
                tokens: list[_Token] = []
                for word, accent in raw_part:
                    expansion = self._abbreviations.get(word) if accent is None else None
                    if expansion is not None:
                        tokens.extend(expansion)
                    elif accent is None and accented:
                        tokens.append((word, (word, "")))
                    else:
                        tokens.append((word, accent))
                parts.append(tuple(word for word, _ in tokens))
                accents.append(tuple(accent for _, accent in tokens))
            self._phrases.append(
                _Phrase(text, space, label, weight, tuple(parts), tuple(accents), exact, side)
            )

    def _tokens(self, text: str) -> list[_Token]:
        """Tokens of a citizen's text: folded words, expanded abbreviations, clause breaks."""
        result: list[_Token] = []
        for word, accent in _split_clauses(text):
            expansion = self._abbreviations.get(word) if accent is None else None
            if expansion is None:
                result.append((word, accent))
            else:
                result.extend(expansion)
        return result

    # ---------------------------------------------------------------- decision

    def classify(self, text: str) -> RoutingDecision:
        """Decide kind, category and unit of ``text``."""
        kind_scores, category_scores, category_best = self._scores(*self._hits(text))

        kind, kind_confidence = self._decide_kind(kind_scores)
        category, category_confidence = self._decide_category(category_scores, category_best)
        unit = self._category_units[category] if kind == KIND_FEEDBACK else self._complaint_unit
        return RoutingDecision(
            kind=kind,
            category=category,
            unit=unit,
            confidence=kind_confidence * category_confidence,
            kind_confidence=kind_confidence,
            category_confidence=category_confidence,
        )

    def explain(self, text: str) -> list[tuple[str, str, str, float]]:
        """The phrases that counted for ``text``: (phrase, "kind"/"category", label, weight)."""
        result: list[tuple[str, str, str, float]] = []
        hits, sentences = self._hits(text)
        kept = self._without_covered(hits)
        for hit in kept:
            phrase = self._phrases[hit.phrase_id]
            if phrase.space in (_SPACE_KIND, _SPACE_CATEGORY):
                result.append((phrase.text, phrase.space, phrase.label, phrase.weight * hit.factor))
        for match in self._pair_matches(kept, sentences):
            first = self._phrases[match.first.phrase_id].text
            second = self._phrases[match.second.phrase_id].text
            result.append((f"{first} + {second}", _SPACE_KIND, match.kind, match.weight))
        return result

    def is_confident(self, decision: RoutingDecision, min_confidence: float) -> bool:
        """Whether ``decision`` may be used as is; otherwise the citizen picks the category."""
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError("min_confidence must be between 0 and 1")
        return decision.category_confidence > 0.0 and decision.confidence >= min_confidence

    def _decide_kind(self, scores: Mapping[str, float]) -> tuple[str, float]:
        totals = {
            KIND_FEEDBACK: FEEDBACK_PRIOR + scores.get(KIND_FEEDBACK, 0.0),
            KIND_COMPLAINT: scores.get(KIND_COMPLAINT, 0.0),
            KIND_DENUNCIATION: scores.get(KIND_DENUNCIATION, 0.0),
        }
        # Order of KINDS breaks ties: a cue must beat the prior of a plain phản ánh.
        ranked = sorted(KINDS, key=lambda kind: -totals[kind])
        margin = totals[ranked[0]] - totals[ranked[1]]
        confidence = 0.5 + 0.5 * (1.0 - math.exp(-KIND_SLOPE * margin))
        return ranked[0], confidence

    def _decide_category(
        self, scores: Mapping[str, float], best_weight: Mapping[str, float]
    ) -> tuple[str, float]:
        if not scores:
            return self._fallback, 0.0
        ranked = sorted(
            scores,
            key=lambda cid: (-scores[cid], -best_weight[cid], self._category_order[cid]),
        )
        best = scores[ranked[0]]
        second = scores[ranked[1]] if len(ranked) > 1 else 0.0
        strength = 1.0 - math.exp(-best / EVIDENCE_SCALE)
        margin = (best - second) / best
        confidence = strength * (1.0 - MARGIN_SHARE + MARGIN_SHARE * margin)
        return ranked[0], min(1.0, max(0.0, confidence))

    # ---------------------------------------------------------------- matching

    def _hits(self, text: str) -> tuple[list[_Hit], list[int]]:
        """Every phrase hit in ``text`` (exact, fuzzy and one-word substitutions), and the
        sentence number of each token."""
        tokens = self._tokens(text)
        sentences: list[int] = []
        sentence = 0
        for word, _ in tokens:
            sentences.append(sentence)
            sentence += word == _STOP
        words = [word for word, _ in tokens]
        accents = [accent for _, accent in tokens]
        letters = [a for word, a in tokens if word.isalpha() and a != ANY_ACCENT]
        marked = sum(1 for accent in letters if accent is not None)
        strict = bool(letters) and marked / len(letters) >= ACCENTED_TEXT_RATIO
        hits = self._exact_hits(words, accents, strict)
        hits.extend(self._fuzzy_hits(words))
        hits.extend(self._substitution_hits(words))
        return hits, sentences

    def _exact_hits(
        self, words: list[str], accents: list[AccentKey | None], strict: bool
    ) -> list[_Hit]:
        hits: list[_Hit] = []
        count = len(words)
        no_ids: list[int] = []
        for start, word in enumerate(words):
            candidates = self._word_index.get(word, no_ids)
            if start + 1 < count:
                pair = self._pair_index.get((word, words[start + 1]))
                if pair is not None:
                    candidates = candidates + pair
            for phrase_id in candidates:
                phrase = self._phrases[phrase_id]
                end = self._match_parts(phrase, words, accents, start, count, strict)
                if end is not None:
                    hits.append(_Hit(start, end, phrase_id, 1.0))
        return hits

    @staticmethod
    def _match_parts(
        phrase: _Phrase,
        words: list[str],
        accents: list[AccentKey | None],
        start: int,
        count: int,
        strict: bool,
    ) -> int | None:
        """End of the match of ``phrase`` starting at ``start``, or None."""
        position = start
        for index, (part, part_accents) in enumerate(
            zip(phrase.parts, phrase.accents, strict=True)
        ):
            length = len(part)
            # The first part must start at ``start``; later parts may follow a short gap.
            last_start = position if index == 0 else min(position + MAX_GAP, count - length)
            found = None
            for candidate in range(position, last_start + 1):
                if candidate + length > count:
                    break
                if all(
                    words[candidate + offset] == part[offset]
                    and _accents_agree(
                        accents[candidate + offset],
                        part_accents[offset],
                        strict=strict,
                        exact=phrase.exact,
                    )
                    for offset in range(length)
                ):
                    found = candidate
                    break
            if found is None:
                return None
            position = found + length
        return position

    def _fuzzy_hits(self, words: list[str]) -> list[_Hit]:
        """rapidfuzz hits for n-grams around words that are neither keywords nor common."""
        hits: list[_Hit] = []
        seen: set[tuple[int, int]] = set()
        count = len(words)
        for index, word in enumerate(words):
            if not self._is_typo_candidate(word):
                continue
            for size in range(1, MAX_FUZZY_NGRAM + 1):
                for start in range(max(0, index - size + 1), min(index, count - size) + 1):
                    if (start, size) in seen:
                        continue
                    seen.add((start, size))
                    window = words[start : start + size]
                    if not _BREAKS.isdisjoint(window):
                        continue
                    query = " ".join(window)
                    for phrase_id, factor in self._fuzzy_lookup(query):
                        hits.append(_Hit(start, start + size, phrase_id, factor))
        return hits

    def _is_typo_candidate(self, word: str) -> bool:
        """A word that may be a misspelt keyword word: unknown and not a real syllable."""
        return (
            len(word) >= 3
            and word.isalpha()
            and word not in self._known_words
            and not is_syllable(word)
        )

    def _fuzzy_lookup(self, query: str) -> tuple[tuple[int, float], ...]:
        """(phrase id, factor) of the phrases closest to ``query``; cached per n-gram."""
        cached = self._fuzzy_cache.get(query)
        if cached is None:
            cached = self._fuzzy_search(query)
            if len(self._fuzzy_cache) >= FUZZY_CACHE_SIZE:
                self._fuzzy_cache.clear()
            self._fuzzy_cache[query] = cached
        return cached

    def _fuzzy_search(self, query: str) -> tuple[tuple[int, float], ...]:
        if len(query) < FUZZY_MIN_LENGTH:
            return ()
        choices = self._choices_for_length(len(query))
        found = process.extractOne(query, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if found is None or found[0] == query:
            # An identical string that did not match exactly was refused for its diacritics.
            return ()
        factor = FUZZY_FACTOR_CLOSE if found[1] >= FUZZY_CLOSE_SCORE else FUZZY_FACTOR
        return tuple((phrase_id, factor) for phrase_id in self._fuzzy_targets[found[0]])

    def _choices_for_length(self, length: int) -> list[str]:
        choices = self._fuzzy_choices.get(length)
        if choices is None:
            # ratio ≥ cut-off needs 2·min(a, b) / (a + b) ≥ cut-off.
            low = length * FUZZY_CUTOFF / (200.0 - FUZZY_CUTOFF)
            high = length * (200.0 - FUZZY_CUTOFF) / FUZZY_CUTOFF
            choices = [text for text in self._fuzzy_strings if low <= len(text) <= high]
            self._fuzzy_choices[length] = choices
        return choices

    def _substitution_hits(self, words: list[str]) -> list[_Hit]:
        """Phrases of 2-4 words matched with one unknown word one edit away from theirs.

        Only a word that is no Vietnamese syllable may be the typo: a one-edit change of a
        syllable is often another real syllable (``thôn Đông`` is not ``thông đồng``).
        """
        hits: list[_Hit] = []
        count = len(words)
        for index, word in enumerate(words):
            if len(word) < SUBSTITUTION_MIN_LENGTH or not self._is_typo_candidate(word):
                continue
            for size in self._substitution_lengths:
                for start in range(max(0, index - size + 1), min(index, count - size) + 1):
                    position = index - start
                    key = _substitution_key(words[start : start + size], position)
                    for phrase_id in self._substitution_index.get(key, ()):
                        target = self._phrases[phrase_id].parts[0][position]
                        if Levenshtein.distance(word, target, score_cutoff=1) == 1:
                            hits.append(_Hit(start, start + size, phrase_id, SUBSTITUTION_FACTOR))
        return hits

    # ---------------------------------------------------------------- scoring

    def _scores(
        self, hits: list[_Hit], sentences: list[int]
    ) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
        """Kind scores, category scores and each category's heaviest phrase weight."""
        kept = self._without_covered(hits)
        best: dict[tuple[str, str, str], float] = {}
        for hit in kept:
            phrase = self._phrases[hit.phrase_id]
            if phrase.space in (_SPACE_BLOCKER, _SPACE_PAIR):
                continue
            key = (phrase.space, phrase.label, phrase.folded)
            best[key] = max(best.get(key, 0.0), phrase.weight * hit.factor)
        kinds: dict[str, float] = {}
        categories: dict[str, float] = {}
        heaviest: dict[str, float] = {}
        for (space, label, _), value in best.items():
            if space == _SPACE_KIND:
                kinds[label] = kinds.get(label, 0.0) + value
            else:
                categories[label] = categories.get(label, 0.0) + value
                heaviest[label] = max(heaviest.get(label, 0.0), value)
        for match in self._pair_matches(kept, sentences):
            kinds[match.kind] = kinds.get(match.kind, 0.0) + match.weight
        return kinds, categories, heaviest

    def _pair_matches(self, kept: list[_Hit], sentences: list[int]) -> list[_PairMatch]:
        """For each pair rule, its best co-occurrence among the kept hits (if any)."""
        sides: dict[tuple[str, int], list[_Hit]] = {}
        for hit in kept:
            phrase = self._phrases[hit.phrase_id]
            if phrase.space == _SPACE_PAIR:
                sides.setdefault((phrase.label, phrase.side), []).append(hit)
        matches: list[_PairMatch] = []
        for name, rule in self._pairs.items():
            firsts = sides.get((name, 1))
            seconds = sides.get((name, 2))
            if not firsts or not seconds:
                continue
            best: _PairMatch | None = None
            for first in firsts:
                for second in seconds:
                    if first.end <= second.start:
                        gap = second.start - first.end
                    elif second.end <= first.start and not rule.ordered:
                        gap = first.start - second.end
                    else:
                        continue  # overlapping, or in the wrong order
                    if gap > rule.window or sentences[first.start] != sentences[second.start]:
                        continue
                    weight = rule.weight * min(first.factor, second.factor)
                    if best is None or weight > best.weight:
                        best = _PairMatch(name, rule.kind, weight, first, second)
            if best is not None:
                matches.append(best)
        return matches

    def _without_covered(self, hits: list[_Hit]) -> list[_Hit]:
        """Drop hits covered by a longer contiguous hit of the same group (kind or category).

        A pair rule's phrase is also covered by a longer counter-cue (a phrase of
        ``[kinds.phan_anh_kien_nghi]``), and so is a gapped kind or pair phrase whose first
        or last part lies inside one. Gapped phrases never cover others: the words in their
        gap are not theirs.
        """
        if not hits:
            return []
        size = max(hit.end for hit in hits) + 1
        furthest: dict[str, list[int]] = {}  # group → furthest end of a hit starting there
        for hit in hits:
            phrase = self._phrases[hit.phrase_id]
            if phrase.contiguous:
                groups = [self._group(hit)]
                if phrase.space == _SPACE_KIND and phrase.label == KIND_FEEDBACK:
                    groups.append(_COUNTER_GROUP)
                for group in groups:
                    ends = furthest.setdefault(group, [-1] * size)
                    ends[hit.start] = max(ends[hit.start], hit.end)
        before: dict[str, list[int]] = {}  # group → furthest end of a hit starting earlier
        for group, ends in furthest.items():
            running = -1
            prefix = []
            for end in ends:
                prefix.append(running)
                running = max(running, end)
            before[group] = prefix

        def covers(group: str, start: int, end: int) -> bool:
            ends = furthest.get(group)
            return ends is not None and (before[group][start] >= end or ends[start] > end)

        counters = _COUNTER_GROUP in furthest
        kept: list[_Hit] = []
        for hit in hits:
            phrase = self._phrases[hit.phrase_id]
            group = self._group(hit)
            if phrase.contiguous:
                covered = covers(group, hit.start, hit.end)
                if not covered and counters and phrase.space == _SPACE_PAIR:
                    covered = covers(_COUNTER_GROUP, hit.start, hit.end)
            elif counters and phrase.label != KIND_FEEDBACK and group != _SPACE_CATEGORY:
                # A gapped cue whose first or last part lies inside a counter-cue is hidden:
                # the "nhận tiền" of "cán bộ * nhận tiền" in "… nhận tiền hỗ trợ".
                first_end = hit.start + len(phrase.parts[0])
                last_start = hit.end - len(phrase.parts[-1])
                covered = covers(_COUNTER_GROUP, hit.start, first_end) or covers(
                    _COUNTER_GROUP, last_start, hit.end
                )
            else:
                covered = False
            if not covered:
                kept.append(hit)
        return kept

    def _group(self, hit: _Hit) -> str:
        """The group within which a longer hit covers a shorter one.

        Each side of a pair rule is a group of its own; counter-cues cover them too (see
        :meth:`_without_covered`), so ``nhận tiền hỗ trợ`` hides the ``nhận tiền`` of a pair
        as it hides the kind cue.
        """
        phrase = self._phrases[hit.phrase_id]
        if phrase.space == _SPACE_PAIR:
            return f"{_SPACE_PAIR}:{phrase.label}:{phrase.side}"
        return _SPACE_KIND if phrase.space == _SPACE_KIND else _SPACE_CATEGORY


def _substitution_key(words: Sequence[str], position: int) -> str:
    return " ".join("*" if index == position else word for index, word in enumerate(words))


def build_classifier(
    category_units: Mapping[str, str],
    extra_keyword_files: Sequence[Path] = (),
    *,
    complaint_unit: str = "van_phong",
    fallback_category: str = "khac",
) -> RoutingClassifier:
    """A classifier on the default keyword file extended by ``extra_keyword_files``."""
    table = KeywordTable.load([default_keyword_path(), *extra_keyword_files])
    return RoutingClassifier(
        table,
        category_units,
        complaint_unit=complaint_unit,
        fallback_category=fallback_category,
    )
