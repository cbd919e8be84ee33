"""Attempt budgets and rate limits, counted in the store so that they hold across server processes."""

from typing import Annotated, NamedTuple

import msgspec
from litestar.connection import ASGIConnection

from arcade.sdk.errors import ArcadeError
from arcade.sdk.store import Store

Count = Annotated[int, msgspec.Meta(ge=1)]

MINUTE = 60
QUARTER_HOUR = 15 * 60
HOUR = 60 * 60


class Limits(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[identity.builtin.limits]``: how much one client address, and everyone together, may try."""

    wrong_user_codes: Count = 5
    """Wrong user codes accepted from everyone together within any ``device_code_ttl``.

    Every other guess is refused until the window moves on, so at most this many
    guesses meet a code during its life: 5 in 20^8 is below 2^-32 (RFC 8628 §5.1).
    Scanning the badge's QR code needs no user code and is never held up by it.
    """
    wrong_user_codes_per_address: Count = 3
    """Wrong user codes from one client address within any ``device_code_ttl``."""
    device_authorizations_per_minute: Count = 30
    """Device authorization requests per client address."""
    token_requests_per_minute: Count = 300
    """Token requests per client address: 25 badges polling every 5 s behind one address."""
    wrong_passwords_per_account: Count = 10
    """Wrong passwords for one account within 15 minutes."""
    wrong_passwords_per_address: Count = 30
    """Wrong passwords from one client address within 15 minutes."""
    sign_ups_per_address: Count = 20
    """New accounts from one client address within an hour."""


class Budget(NamedTuple):
    """At most ``limit`` attempts counted under ``key`` within any ``window`` seconds."""

    key: str
    limit: int
    window: int


class TooManyAttempts(ArcadeError):
    """A budget is spent; trying again after ``retry_after`` seconds can succeed."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many attempts; try again in {retry_after} s")
        self.retry_after = retry_after


async def spend(store: Store, now: int, *budgets: Budget) -> None:
    """Take one attempt from each budget at second ``now``, or none and raise :class:`TooManyAttempts`.

    A spent budget is refused without a write, so hammering costs the store nothing;
    two processes racing for the last attempt both count and the loser gives it back.
    """
    for budget in budgets:
        if await store.add_to_counter(budget.key, now, budget.window, 0) >= budget.limit:
            raise TooManyAttempts(budget.window)
    for taken, budget in enumerate(budgets, start=1):
        if await store.add_to_counter(budget.key, now, budget.window) > budget.limit:
            await give_back(store, now, *budgets[:taken])
            raise TooManyAttempts(budget.window)


async def give_back(store: Store, now: int, *budgets: Budget) -> None:
    """Return the attempts :func:`spend` took at second ``now`` (it turned out not to count)."""
    for budget in budgets:
        await store.add_to_counter(budget.key, now, budget.window, -1)


def address_of(connection: ASGIConnection) -> str:
    """The client address budgets are counted by (the proxy's, unless the server trusts its headers)."""
    return connection.client.host if connection.client else "unknown"
