"""The codes the device flow hands out: the user code a person types, and the secrets that stay hidden."""

import hashlib
import re
import secrets

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
"""Twenty consonants: no vowels, so no words, and no digits to mistake for letters (RFC 8628 §6.1)."""
USER_CODE_LENGTH = 12
USER_CODE_GROUP = 4
"""Shown in groups of four letters: ``BCDF-GHJK-LMNP``."""
USER_CODE_SPACE = len(USER_CODE_ALPHABET) ** USER_CODE_LENGTH
"""20^12, about 2^51.9 codes. Within RFC 8628's 2^-32 per code, eight letters (2^34.6) would allow
everyone together five wrong guesses in a code's life, so five wrong codes from anyone would have to
lock typed entry for everyone; twelve allow up to 953,674 (``limits.Limits.wrong_user_codes``)."""

_TYPED_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
"""Spaces and the dashes phones type for a hyphen; none of them is part of a code."""


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def show_user_code(code: str) -> str:
    """The code as the badge and the pages show it: ``BCDF-GHJK-LMNP``."""
    return "-".join(code[start : start + USER_CODE_GROUP] for start in range(0, len(code), USER_CODE_GROUP))


USER_CODE_EXAMPLE = show_user_code(USER_CODE_ALPHABET[:USER_CODE_LENGTH])


def read_user_code(typed: str) -> str | None:
    """The code a person typed, whatever the case, spaces and hyphens; None if no code looks like it."""
    code = _TYPED_SEPARATORS.sub("", typed).upper()
    if len(code) != USER_CODE_LENGTH or any(letter not in USER_CODE_ALPHABET for letter in code):
        return None
    return code


def new_secret(size: int = 32) -> str:
    """A URL-safe random secret of ``size`` bytes (256 bits by default)."""
    return secrets.token_urlsafe(size)


def digest(secret: str) -> str:
    """The key a secret is stored under, so the store never holds a usable device code or token."""
    return hashlib.sha256(secret.encode()).hexdigest()
