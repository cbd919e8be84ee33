"""Attempt budgets and rate limits, counted in the store so that they hold across server processes."""

import asyncio
from typing import NamedTuple

from litestar.connection import ASGIConnection

from arcade.sdk.errors import ArcadeError
from arcade.sdk.store import Store

MINUTE = 60
QUARTER_HOUR = 15 * 60
HOUR = 60 * 60


class Budget(NamedTuple):
    """At most ``limit`` attempts counted under ``key`` within any ``window`` seconds."""

    key: str
    limit: int
    window: int


class TooManyAttempts(ArcadeError):
    """A budget is spent; trying again after ``retry_after`` seconds can succeed."""

    def __init__(self, retry_after: int, what: str = "too many attempts"):
        super().__init__(f"{what}; try again in {retry_after} s")
        self.retry_after = retry_after


async def spend(store: Store, now: int, *budgets: Budget) -> None:
    """Take one attempt from each budget at second ``now``, or none and raise :class:`TooManyAttempts`.

    A spent budget is refused without a write, so hammering costs the store nothing;
    two processes racing for the last attempt both count and the loser gives it back. The
    attempts are taken together, so a store that commits concurrent changes at once (the
    TinyDB store's journal) makes them durable in one write, not one after the other.
    """
    for budget in budgets:
        if await store.add_to_counter(budget.key, now, budget.window, 0) >= budget.limit:
            raise TooManyAttempts(budget.window)
    counts = await asyncio.gather(*(store.add_to_counter(budget.key, now, budget.window) for budget in budgets))
    over = [budget for budget, count in zip(budgets, counts, strict=True) if count > budget.limit]
    if over:
        await give_back(store, now, *budgets)
        raise TooManyAttempts(over[0].window)


async def give_back(store: Store, now: int, *budgets: Budget) -> None:
    """Return the attempts :func:`spend` took at second ``now`` (it turned out not to count)."""
    await asyncio.gather(*(store.add_to_counter(budget.key, now, budget.window, -1) for budget in budgets))


def address_of(connection: ASGIConnection) -> str:
    """The client address budgets are counted by (the proxy's, unless the server trusts its headers)."""
    return connection.client.host if connection.client else "unknown"
