"""People's accounts on the built-in provider: sign-up, log-in and their scrypt password hashes."""

import asyncio
import base64
import hashlib
import hmac
import os
import re
import time
import unicodedata

import msgspec

from arcade.sdk.errors import ArcadeError
from arcade.sdk.store import Store
from arcade.sdk.web import safe_picture

KIND = "account"

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 5
"""16 MiB and about 0.2 s per hash: OWASP's scrypt setting equivalent to N=2^17, p=1 at an
eighth of the memory, so a small event server survives a crowd logging in at once."""
_SCRYPT_MAXMEM = 64 * 2**20
_hashing = asyncio.Semaphore(2)
"""Hashes at once per process: bounds the memory a crowd (or an attacker) can make us use."""

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")
MAX_NAME = 40
MIN_PASSWORD, MAX_PASSWORD = 8, 200


class Account(msgspec.Struct, kw_only=True):
    subject: str
    """The stable, random ``sub`` of this person's tokens."""
    username: str
    name: str
    picture: str | None = None
    password: str
    """``scrypt$N$r$p$salt$hash``, so the cost can rise for new passwords later."""
    created_at: int


class AccountError(ArcadeError):
    """Sign-up input that cannot be used; ``field`` names the form field to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class UsernameTaken(AccountError):
    """The username belongs to someone: known only after the password was hashed, so it counts
    against the sign-up budget (else trying names would cost unlimited hashes and reveal accounts)."""

    def __init__(self):
        super().__init__("username", "That username is taken; choose another, or log in if it is yours.")


def username_key(username: str) -> str:
    """How a username is compared: ``Ada`` and ``ada`` are one account."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


async def sign_up(store: Store, username: str, name: str, password: str, picture: str = "") -> Account:
    """Create an account, or raise :class:`AccountError` saying which field is wrong and why."""
    key = username_key(username)
    if not USERNAME.match(key):
        raise AccountError(
            "username", "Use 3 to 32 letters, digits, dots, hyphens or underscores, starting with a letter or digit."
        )
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise AccountError("name", f"Give a display name of 1 to {MAX_NAME} characters.")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError("password", f"Use a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
    picture = picture.strip()
    if picture and safe_picture(picture) is None:
        raise AccountError("picture", "Give the picture as a web address starting with https://, or leave it empty.")
    account = Account(
        subject=base64.b32encode(os.urandom(15)).decode().lower(),
        username=key,
        name=name,
        picture=picture or None,
        password=await _hash(password),
        created_at=int(time.time()),
    )
    if await store.put_record(KIND, key, msgspec.to_builtins(account), version=0) is None:
        raise UsernameTaken()
    return account


async def log_in(store: Store, username: str, password: str) -> Account | None:
    """The account if the password is right, else None (the same answer for an unknown username)."""
    account = await find(store, username_key(username))
    stored = account.password if account else _UNKNOWN_ACCOUNT_HASH
    right = await _verify(password, stored)
    return account if right and account else None


async def find(store: Store, key: str) -> Account | None:
    record = await store.get_record(KIND, key)
    return None if record is None else msgspec.convert(record.value, Account)


async def rename(store: Store, key: str, name: str) -> None:
    """Give the account a new display name, which the tokens of its next logins and refreshes carry."""
    while (record := await store.get_record(KIND, key)) is not None:
        value = {**record.value, "name": name}
        if await store.put_record(KIND, key, value, version=record.version) is not None:
            return


async def delete(store: Store, key: str) -> None:
    """Remove the account (a person deleting their own): its username can be signed up again."""
    while (record := await store.get_record(KIND, key)) is not None:
        if await store.put_record(KIND, key, record.value, version=record.version, expires_at=0) is not None:
            return


async def _hash(password: str) -> str:
    salt = os.urandom(16)
    derived = await _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    encode = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(derived).decode()}"


async def _verify(password: str, stored: str) -> bool:
    _, n, r, p, salt, expected = stored.split("$")
    derived = await _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(derived, base64.b64decode(expected))


async def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    async with _hashing:
        return await asyncio.to_thread(
            hashlib.scrypt, password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
        )


_UNKNOWN_ACCOUNT_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${'A' * 24}${'A' * 44}"
"""Checked for an unknown username, so that answering takes as long as for a known one."""
