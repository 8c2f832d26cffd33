"""Contact details in free text: the one definition of the phone and e-mail patterns.

The normaliser masks them for the models (``<phone>``, ``<email>``) and :mod:`nlp.pii` redacts
them before comments are stored; both must agree on what a phone number is.

Every pattern here runs on hostile input (1 MB comments, long runs of digits or letters), so
each one is linear: a match may only start where the previous character cannot continue it,
which keeps the engine from rescanning the same run from every position.
"""

from __future__ import annotations

import re
from typing import Final

# The "not glued to a previous word" check sits after the first character rather than in a
# leading lookbehind: a pattern that starts with a literal lets the engine skip ahead to
# candidate positions. Without it, a run of digits was tried (and backtracked) from every
# position: 10,000 zeros took 0.7 s.
PHONE_NUMBER: Final = re.compile(
    r"(?:\+(?<![\w+]\+)84|8(?<![\w+]8)4|\((?<![\w+]\()0|0(?<![\w+]0)|1(?<![\w+]1)[89]00)"
    r"[\s.\-]?\d{2,4}\)?(?:[\s.\-]?\d{2,4}){1,3}(?![\w])"
)
#: Toll-free and premium hotlines ("1800 1234", "1900 6035"): business numbers, not personal.
HOTLINE_PREFIXES: Final = ("1800", "1900")

# A local part may only start after a character that cannot belong to it; without that check
# "aaaa...@" (no domain) was rescanned from every position: 20,000 characters took 4 s.
EMAIL_ADDRESS: Final = re.compile(r"[\w.+-](?<![\w.+-]{2})[\w.+-]*@[\w-]+(?:\.[\w-]+)+")


def phone_digits(match: re.Match[str]) -> str | None:
    """The digits of a :data:`PHONE_NUMBER` match: ``"0912 345 678"`` -> ``"0912345678"``.

    None when the digits are not a whole phone number (see :func:`is_phone_digits`).
    """
    digits = "".join(char for char in match.group() if char.isdigit())
    return digits if is_phone_digits(digits) else None


def is_phone_digits(digits: str) -> bool:
    """Whether digits starting with 0, 84 or a hotline prefix make a whole phone number.

    Mobile and landline numbers have 9-10 digits after the leading 0 or the 84 country code;
    hotlines are 1800/1900 plus at most 8 digits.
    """
    if digits.startswith(HOTLINE_PREFIXES):
        return len(digits) <= 12
    national = digits[2:] if digits.startswith("84") else digits[1:]
    return 9 <= len(national) <= 10
