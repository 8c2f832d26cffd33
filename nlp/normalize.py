"""Text normalisation: one form for every corpus and for live user text.

``normalize("Đồ ăn ngonnn quáaa 😍, ship 150k ko đắt!!!")``
returns ``"đồ ăn ngon quá <emo_pos> , ship <money> không đắt !"``.

The output is NFC, lowercase, tokens separated by one space. Clause punctuation ``, . ! ? ; :``
is kept as separate tokens because the topic-polarity head splits clauses on it; every other
symbol is dropped. Placeholders (see :data:`PLACEHOLDERS`) stand for URLs, e-mails, phone
numbers, money amounts, masked names and emoji/emoticons. Open syllables take the tone mark on
the first vowel ("hoà" -> "hòa", "thuỷ" -> "thủy", "khoẻ" -> "khỏe"): the spelling most of the
shared corpora use (about 61% of such syllables). Teencode and emoji come from
``data/lexicons/teencode.tsv`` and ``data/lexicons/emoji.tsv``; the comments at the top of those
files record the decisions. ``normalize`` is idempotent.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from nlp.errors import DataError, InputError
from nlp.paths import lexicon_dir as default_lexicon_dir
from nlp.patterns import EMAIL_ADDRESS as _EMAIL
from nlp.patterns import PHONE_NUMBER as _PHONE
from nlp.patterns import phone_digits

__all__ = [
    "PLACEHOLDERS",
    "Normalizer",
    "has_diacritics",
    "normalize",
    "strip_diacritics",
]

URL = "<url>"
EMAIL = "<email>"
PHONE = "<phone>"
MONEY = "<money>"
NAME = "<name>"
EMO_POS = "<emo_pos>"
EMO_NEG = "<emo_neg>"
EMO_LAUGH = "<emo_laugh>"
PLACEHOLDERS = frozenset({URL, EMAIL, PHONE, MONEY, NAME, EMO_POS, EMO_NEG, EMO_LAUGH})
_EMO_TOKENS = frozenset({EMO_POS, EMO_NEG, EMO_LAUGH})
_EMOJI_VALUES = {"pos": EMO_POS, "neg": EMO_NEG, "laugh": EMO_LAUGH, "drop": ""}

TEENCODE_FILE = "teencode.tsv"
EMOJI_FILE = "emoji.tsv"

# --- diacritics -----------------------------------------------------------------------------

_VI_LOWER = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
_VI_LETTERS = _VI_LOWER + _VI_LOWER.upper()
_HAS_DIACRITIC = re.compile(f"[{_VI_LETTERS}\u0300-\u036f]")


def _build_strip_table() -> dict[int, int | None]:
    table: dict[int, int | None] = {ord("đ"): ord("d"), ord("Đ"): ord("D")}
    # Latin-1 Supplement, Latin Extended-A/B and Latin Extended Additional hold every precomposed
    # Vietnamese letter; other accented Latin letters come along for free.
    for code in [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]:
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii() and base.isalpha():
            table[code] = ord(base)
    for code in range(0x0300, 0x0370):
        table[code] = None
    return table


_STRIP_TABLE = _build_strip_table()


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese tone and vowel marks, keeping case: "Đồ ăn ngon" -> "Do an ngon".

    Works on NFC and NFD input alike; "đ"/"Đ" become "d"/"D".
    """
    return text.translate(_STRIP_TABLE)


def has_diacritics(text: str) -> bool:
    """True when any Vietnamese accented letter is present: "ngon" -> False, "ngọn" -> True."""
    return _HAS_DIACRITIC.search(text) is not None


# --- patterns that do not depend on the lexicons ---------------------------------------------

_LETTER = r"[^\W\d_]"
# Format characters (zero-width, BOM, bidi marks, soft hyphen), variation selectors, skin-tone
# modifiers and lone surrogates carry no meaning and would split or hide words.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff"
    "\ud800-\udfff\U0001f3fb-\U0001f3ff\U000e0000-\U000e007f]"
)
_COMBINING = re.compile("[\u0300-\u036f]")
_PLACEHOLDER_NAMES = "url|email|phone|money|name|emo_pos|emo_neg|emo_laugh"
_HTML_TAG = re.compile(rf"</?(?!(?:{_PLACEHOLDER_NAMES})>)[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", re.I)
_URL_TAIL = r"[^\s<>\"']*[^\s<>\"'.,!?;:)\]}]"
_URL = re.compile(rf"(?:https?://|www\.){_URL_TAIL}")
_TLD = r"(?:com|vn|net|org|info|io|me|edu|gov|biz|xyz|shop|store|app)"
_DOMAIN_HINT = re.compile(rf"\.{_TLD}\b")
# "-" in the lookbehind: otherwise every label of "a-a-a-...-a.co" starts a rescan of the rest
# (quadratic: 16,000 characters took 15 s).
_BARE_DOMAIN = re.compile(
    rf"(?<![\w@.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.{_TLD}(?:\.vn)?(?:/{_URL_TAIL})?(?![\w])"
)
# uit_vsfc spells dots out: "coursedotuitdotedudotvn", "turnitindotcom". The name part may
# itself hold "dot": a nested "(?:dot[a-z0-9]+)*" matched the same words and backtracked
# exponentially ("adot" * 22 + "x" took 3 s).
_SPELLED_DOMAIN = re.compile(r"\b[a-z0-9]+dot(?:com|vn|net|org)\b")
# uit_vsfc masks people, faculties and rooms as wzjwz<number>.
_NAME_MASK = re.compile(r"\bw?wzjwz\d+\b")
_SPELLED_FRACTION = re.compile(r"(\d) fraction (\d)")

# Patterns start with a literal or a character class rather than a lookbehind: that lets the
# regex engine skip ahead to candidate positions, several times faster on ordinary text. The
# "not glued to a previous word" checks then sit after the first character or in the callback.
_NUM = r"\d+(?:[.,]\d+)*"
# Units that may follow the number after a space ("200 nghìn") and those that must touch it:
# a bare "d" is only money on a long amount ("35000d"), otherwise it is "3d"/"2d".
# "đồng" starts many words that are not money: "2 đồng hồ", "3 đồng nghiệp".
_NOT_MONEY_DONG = r"(?:hồ|nghiệp|phục|bộ|ý|đội|hương|nai|thời|loại|màu|đều|bào|chí|hành)\b"
_UNIT_SPACED = (
    r"(?:triệu|trieu|tr\d?|nghìn|nghin|ngàn|ngan|tỷ|tỉ|k|vnđ|vnd|usd"
    rf"|đồng(?! {_NOT_MONEY_DONG})|đô(?: la)?|đ|₫|\$)"
)
_MONEY = re.compile(
    rf"\$(?<!\w\$)(?<!\d[.,]\$)\s?{_NUM}"
    r"|\d(?<!\w\d)(?<!\d[.,]\d)(?:"
    rf"\d*(?:[.,]\d+)*(?:\s?[-–~]\s?{_NUM})?\s?{_UNIT_SPACED}"
    r"|\d{0,2}(?:[.,]\d{3})+d|\d{3,}d"
    r")(?:\s?/\s?[^\W\d_]+)?(?![^\W_])"
)

_TRIPLE_LETTER = re.compile(rf"({_LETTER})\1{{2,}}")
_VOWEL = re.compile("[aeiouy]", re.IGNORECASE)
# A toned vowel followed by its bare vowel is elongation ("quáaa", "nhéee"). "ư"/"ơ" are not in
# the u/o classes, so "hưu" and "cứu" survive.
_TONED_THEN_BARE = re.compile(
    "(?<=[áàảãạâấầẩẫậăắằẳẵặ])a+|(?<=[éèẻẽẹêếềểễệ])e+|(?<=[íìỉĩị])i+"
    "|(?<=[óòỏõọôốồổỗộ])o+|(?<=[úùủũụ])u+|(?<=[ýỳỷỹỵ])y+"
)
_WORD_WITH_DOUBLE = re.compile(rf"(?<!{_LETTER}){_LETTER}*({_LETTER})\1{_LETTER}*")
# No Vietnamese syllable doubles a letter except "oo" (xoong, boong, moóc), so a double inside
# an accented word is elongation ("đẹpp"); unaccented words may be English ("full", "oppo").
_DOUBLE_NOT_O = re.compile(r"([^\W\d_o])\1")

_OLD_TONE = {
    f"{first}{toned}": f"{unicodedata.normalize('NFC', first + mark)}{second}"
    for first, second, toned_vowels in (
        ("o", "a", "àáảãạ"),
        ("o", "e", "èéẻẽẹ"),
        ("u", "y", "ỳýỷỹỵ"),
    )
    for toned in toned_vowels
    for mark in [unicodedata.normalize("NFD", toned)[1]]
}
_TONE_ON_SECOND = re.compile(rf"(?<!q)(?:o[àáảãạèéẻẽẹ]|u[ỳýỷỹỵ])(?!{_LETTER})")

_EMOJI = re.compile("[\u2190-\u2bff\u3030\u303d\U0001f000-\U0001faff]+")
_RESOLVED_CACHE_SIZE = 200_000
_DIGIT = re.compile(r"\d")
_PUNCT_RUN = re.compile(r"([,.!?;:])\1+|…")
_TOKEN = re.compile(rf"<(?:{_PLACEHOLDER_NAMES})>|\d+(?:[.,:/]\d+)+%?|[^\W_]+%?|[,.!?;:]")


def _replace_old_tone(match: re.Match[str]) -> str:
    return _OLD_TONE[match.group()]


def _replace_phone(match: re.Match[str]) -> str:
    return f" {PHONE} " if phone_digits(match) is not None else match.group()


def _replace_punct_run(match: re.Match[str]) -> str:
    return match.group(1) or "."


def _canonical_word(token: str) -> str:
    """Squeeze letter repeats and move old-style tone marks: "quáaa" -> "quá", "hoà" -> "hòa"."""
    if token.startswith("<") or (not token[0].isalpha() and not token[-1].isalpha()):
        return token
    # A token without vowels is an abbreviation ("cccd", "www"), not an elongated word.
    if _VOWEL.search(strip_diacritics(token)) is not None:
        token = _TRIPLE_LETTER.sub(r"\1", token)
    token = _TONED_THEN_BARE.sub("", token)
    token = _WORD_WITH_DOUBLE.sub(_squeeze_doubles, token)
    return _TONE_ON_SECOND.sub(_replace_old_tone, token)


def _squeeze_doubles(match: re.Match[str]) -> str:
    word = match.group()
    if _HAS_DIACRITIC.search(word) is None:
        return word
    return _DOUBLE_NOT_O.sub(r"\1", word)


# --- lexicons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Expansion:
    words: tuple[str, ...]
    # previous output word -> replacement words; the "#num" key means "after a number".
    after: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class _Lexicons:
    tokens: dict[str, _Expansion]
    emoticon_pattern: re.Pattern[str] | None
    emoticons: dict[str, str]
    emoji: dict[str, str]


def _tsv_rows(path: Path) -> Iterable[tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read lexicon {path}: {exc}", path=str(path)) from exc
    header_seen = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if not header_seen:
            header_seen = True
            continue
        yield number, [unicodedata.normalize("NFC", cell.strip()) for cell in line.split("\t")]


def _words(value: str) -> tuple[str, ...]:
    return () if value == "-" else tuple(value.split())


def _load_teencode(path: Path, tokens: dict[str, _Expansion]) -> None:
    plain: dict[str, tuple[str, ...]] = {}
    context: dict[str, dict[str, tuple[str, ...]]] = {}
    for number, cells in _tsv_rows(path):
        if len(cells) < 2 or not cells[0] or not cells[1] or " " in cells[0]:
            raise DataError(f"{path}:{number}: expected 'token<TAB>expansion[<TAB>after]'")
        token, expansion = cells[0].lower(), cells[1]
        after = cells[2] if len(cells) > 2 else ""
        words = (token,) if expansion == "=" else _words(expansion)
        if after:
            slot = context.setdefault(token, {})
            for previous in after.split(","):
                slot[previous.strip()] = words
        elif token in plain:
            raise DataError(f"{path}:{number}: token {token!r} listed twice")
        else:
            plain[token] = words
    for token in plain.keys() | context.keys():
        tokens[token] = _Expansion(plain.get(token, (token,)), context.get(token, {}))


def _emoticon_key(emoticon: str) -> str:
    """The lookup key of an emoticon: its trailing repeated character counted once."""
    last = emoticon[-1]
    return emoticon.rstrip(last) + last


def _load_emoji(
    path: Path, tokens: dict[str, _Expansion]
) -> tuple[list[str], dict[str, str], dict[str, str]]:
    symbols: list[str] = []
    emoticons: dict[str, str] = {}
    emoji: dict[str, str] = {}
    for number, cells in _tsv_rows(path):
        if len(cells) < 2 or cells[1] not in _EMOJI_VALUES:
            raise DataError(
                f"{path}:{number}: expected 'symbol<TAB>token', token one of "
                f"{', '.join(_EMOJI_VALUES)}"
            )
        symbol = _INVISIBLE.sub("", cells[0]).lower()
        value = _EMOJI_VALUES[cells[1]]
        if symbol.isalpha() and symbol.isascii():
            tokens[symbol] = _Expansion((value,) if value else (), {})
        elif len(symbol) == 1:
            emoji[symbol] = value
        elif symbol.isascii() and len(symbol) > 1:
            key = _emoticon_key(symbol)
            if emoticons.get(key, value) != value:
                raise DataError(f"{path}:{number}: {symbol!r} conflicts with an earlier row")
            emoticons[key] = value
            symbols.append(symbol)
        else:
            raise DataError(f"{path}:{number}: cannot classify symbol {cells[0]!r}")
    return symbols, emoticons, emoji


def _emoticon_regex(symbols: Iterable[str]) -> re.Pattern[str] | None:
    """One alternation per first character, so the engine can skip to candidate positions."""
    by_first: dict[str, list[str]] = {}
    for symbol in sorted(symbols, key=len, reverse=True):
        rest = re.escape(symbol[1:]) + re.escape(symbol[-1]) + "*"
        if symbol[-1].isalnum():
            rest += r"(?![^\W_])"
        by_first.setdefault(symbol[0], []).append(rest)
    branches = []
    for first, rests in by_first.items():
        guard = rf"(?<!\d{re.escape(first)})" if first in ":;=" else ""
        branches.append(f"{re.escape(first)}{guard}(?:{'|'.join(rests)})")
    return re.compile("|".join(branches)) if branches else None


@functools.lru_cache(maxsize=8)
def _load_lexicons(directory: Path) -> _Lexicons:
    tokens: dict[str, _Expansion] = {}
    symbols, emoticons, emoji = _load_emoji(directory / EMOJI_FILE, tokens)
    _load_teencode(directory / TEENCODE_FILE, tokens)
    return _Lexicons(tokens, _emoticon_regex(symbols), emoticons, emoji)


# --- the normaliser ---------------------------------------------------------------------------


class Normalizer:
    """Brings raw feedback, any corpus and live text, to vicx's one normal form.

    >>> Normalizer().normalize("Nv tư vấn nhiệt tình :)) nhưng ship hơi lâu")
    'nhân viên tư vấn nhiệt tình <emo_pos> nhưng ship hơi lâu'

    The lexicons are read once per directory and shared between instances. Each instance keeps
    a bounded cache of the tokens it has resolved, since comments reuse a small vocabulary.
    """

    def __init__(self, lexicon_dir: Path | None = None) -> None:
        directory = (lexicon_dir or default_lexicon_dir()).resolve()
        self._lexicons = _load_lexicons(directory)
        self._resolved: dict[str, _Expansion] = {}
        # The tokens that resolve to one word, whatever their neighbours: most of them.
        self._plain: dict[str, str] = {}
        self._replace_emoticon = self._make_emoticon_replacer()
        self._replace_emoji = self._make_emoji_replacer()

    def _make_emoticon_replacer(self) -> Callable[[re.Match[str]], str]:
        emoticons = self._lexicons.emoticons

        def replace(match: re.Match[str]) -> str:
            value = emoticons.get(_emoticon_key(match.group()), "")
            return f" {value} " if value else " "

        return replace

    def _make_emoji_replacer(self) -> Callable[[re.Match[str]], str]:
        emoji = self._lexicons.emoji

        def replace(match: re.Match[str]) -> str:
            return " " + " ".join(emoji.get(symbol, "") for symbol in match.group()) + " "

        return replace

    def normalize(self, text: str) -> str:
        """Normalise one comment.

        "Sp đẹpppp, giá 99k/tháng 👍👍" -> "sản phẩm đẹp , giá <money> <emo_pos>"
        """
        if not isinstance(text, str):
            raise InputError(f"normalize expects str, got {type(text).__name__}")
        if not text:
            return ""
        text = _INVISIBLE.sub("", text)
        if "&" in text:
            text = html.unescape(text)
        if "<" in text:
            text = _HTML_TAG.sub(" ", text)
        text = unicodedata.normalize("NFC", text).lower()
        if not text.isascii():
            text = _COMBINING.sub("", text)
            text = _EMOJI.sub(self._replace_emoji, text)
        text = self._mask_entities(text)
        if self._lexicons.emoticon_pattern is not None:
            text = self._lexicons.emoticon_pattern.sub(self._replace_emoticon, text)
        text = _PHONE.sub(_replace_phone, text)
        text = _MONEY.sub(f" {MONEY} ", text)
        text = _PUNCT_RUN.sub(_replace_punct_run, text)
        result = " ".join(self._expand(_TOKEN.findall(text)))
        if _DIGIT.search(result):
            # Dropping symbols can bring a number next to its unit ("250/ngàn" -> "250 ngàn",
            # "0#985133744" -> "0 985133744"); masking again keeps normalize idempotent.
            masked = _MONEY.sub(f" {MONEY} ", _PHONE.sub(_replace_phone, result))
            if masked != result:
                result = " ".join(masked.split())
        return result

    def normalize_many(self, texts: Iterable[str]) -> list[str]:
        """Normalise a batch; the output follows the input order."""
        normalize_one = self.normalize
        return [normalize_one(text) for text in texts]

    def _mask_entities(self, text: str) -> str:
        if "@" in text:
            text = _EMAIL.sub(f" {EMAIL} ", text)
        if "http" in text or "www." in text:
            text = _URL.sub(f" {URL} ", text)
        if _DOMAIN_HINT.search(text):
            text = _BARE_DOMAIN.sub(f" {URL} ", text)
        if "wzjwz" in text:
            text = _NAME_MASK.sub(f" {NAME} ", text)
        if "dot" in text:
            text = _SPELLED_DOMAIN.sub(f" {URL} ", text)
        if "fraction" in text:
            text = _SPELLED_FRACTION.sub(r"\1/\2", text)
        return text

    def _resolve(self, token: str) -> _Expansion:
        """Resolve one raw token: squeeze letters, place the tone mark, look up teencode."""
        canonical = _canonical_word(token)
        expansion = self._lexicons.tokens.get(canonical) or _Expansion((canonical,), {})
        if len(self._resolved) >= _RESOLVED_CACHE_SIZE:
            # Hostile or huge inputs must not grow memory without bound.
            self._resolved.clear()
            self._plain.clear()
        self._resolved[token] = expansion
        if (
            len(expansion.words) == 1
            and not expansion.after
            and expansion.words[0] not in _EMO_TOKENS
        ):
            self._plain[token] = expansion.words[0]
        return expansion

    def _expand(self, tokens: list[str]) -> list[str]:
        plain = self._plain
        words_if_plain = list(map(plain.get, tokens))
        if None not in words_if_plain:
            # Every token is a known one-word token: nothing depends on the neighbours.
            return cast(list[str], words_if_plain)
        resolved = self._resolved
        out: list[str] = []
        for index, token in enumerate(tokens):
            word = words_if_plain[index]
            if word is not None:
                out.append(word)
                continue
            expansion = resolved.get(token) or self._resolve(token)
            words = expansion.words
            if expansion.after:
                previous_token = tokens[index - 1] if index else ""
                if previous_token[:1].isdigit() and "#num" in expansion.after:
                    words = expansion.after["#num"]
                elif out and out[-1] in expansion.after:
                    words = expansion.after[out[-1]]
            for word in words:
                # Repeated emoji and emoticons ("😍😍😍", ":)) :))") say it once.
                if word in _EMO_TOKENS and out and out[-1] == word:
                    continue
                out.append(word)
        return out


@functools.cache
def _default_normalizer() -> Normalizer:
    return Normalizer()


def normalize(text: str) -> str:
    """Normalise with the shipped lexicons: "Ko bít j lun :((" -> "không biết gì luôn <emo_neg>".

    The default :class:`Normalizer` is built on first use, not at import.
    """
    return _default_normalizer().normalize(text)
