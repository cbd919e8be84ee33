"""The addresses the built-in provider has served under, and moving their players to its stable name.

Players are keyed ``player_id(issuer, subject)``. This provider's ``iss`` is its
public address, which changes when the organiser picks another port or
public_url, so it keys its players by :data:`PLAYERS_ISSUER` instead. Players an
earlier version keyed by an address are moved there (``Store.move_issuer``):
every address served under is remembered in a record, and the first start that
finds no record adopts the stored issuers shaped like an address it had.
"""

from urllib.parse import urlsplit

from arcade.sdk.store import Store

PLAYERS_ISSUER = "urn:arcade:builtin"
"""The issuer players of this provider are keyed under, whatever its address."""
KIND, KEY = "builtin-provider", "addresses"


async def adopt(store: Store, address: str) -> None:
    """Remember ``address`` as served under, then move the players of every such address.

    Safe to repeat and to resume after a crash: the record is written first, and
    moving an address without players left does nothing.
    """
    while True:
        record = await store.get_record(KIND, KEY)
        known = _addresses_we_had(await store.issuers()) if record is None else record.value["served"]
        served = sorted({*known, address})
        if record is not None and served == record.value["served"]:
            break
        if await store.put_record(KIND, KEY, {"served": served}, version=record.version if record else 0):
            break
    for issuer in served:
        await store.move_issuer(issuer, PLAYERS_ISSUER)


def _addresses_we_had(issuers: list[str]) -> list[str]:
    """Issuers shaped like this provider's former ones: ``http(s)://host[:port]``, nothing after.

    Other providers' issuers mostly carry a path or end in ``/``; it runs once, on
    the first start without a record, when nothing else tells which were ours.
    """
    def shaped(issuer: str) -> bool:
        parts = urlsplit(issuer)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and issuer == f"{parts.scheme}://{parts.netloc}"

    return [issuer for issuer in issuers if shaped(issuer)]
