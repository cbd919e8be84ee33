"""A player's own data, on ``/account``: their display name, and deleting their account and scores.

Signed in through the active provider (``arcade.server.signed_in``), whichever it is; the built-in
provider's accounts and an external provider's players alike (docs/running-an-event.md).
"""

from litestar import Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import SkipValidation
from litestar.response import Redirect, Template

from arcade.platform.assembly import Arcade
from arcade.sdk.models import player_id, typed_name
from arcade.sdk.origins import posts_from
from arcade.sdk.store import Moderation, Store
from arcade.server import signed_in

CONFIRM = "delete"
"""What a player types to confirm deleting their account: a click alone is too easy to make."""


def player_of(request: Request) -> str:
    principal = signed_in.user_of(request).principal
    return player_id(principal.issuer, principal.subject)


async def account_view(request: Request, arcade: Arcade, store: Store, status: int = 200, **errors) -> Template:
    player = await store.player(player_of(request))
    games = {game.id: game for game in arcade.ordered_games()}
    bests = await store.player_bests(player.id, list(games.values())) if player else []
    return await signed_in.render(request, "account.html", status, player=player, games=games, bests=bests, **errors)


async def fields_of(request: Request) -> dict[str, str]:
    return {key: value for key, value in (await request.form()).items() if isinstance(value, str)}


@get("/")
async def account(
    request: Request, arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]
) -> Template:
    return await account_view(request, arcade, store)


@post("/name")
async def change_name(
    request: Request, arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]
) -> Response:
    """Cleaned as every name is, refused rather than cut (``typed_name``); kept against the provider's from now on."""
    try:
        name = typed_name((await fields_of(request)).get("name", ""))
    except ValueError as error:
        return await account_view(request, arcade, store, 422, name_error=f"{str(error).capitalize()}.")
    player = await store.player(player_of(request))
    if player is not None and player.banned is not None:
        return await account_view(request, arcade, store, 403, name_error="A banned player cannot change their name.")
    await signed_in.provider_of(request).rename(signed_in.user_of(request), name)
    if player is not None:
        change = Moderation(
            action="rename", player=player.id, actor="the player", reason="changed on their account page", value=name
        )
        await store.moderate(change, arcade.ordered_games())
    return Redirect("/account", status_code=303)


@post("/delete")
async def delete_account(
    request: Request, arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]
) -> Response:
    """Scores first, then the account and its logins: a failure midway leaves the person able to try again."""
    if (await fields_of(request)).get("confirm", "").strip().casefold() != CONFIRM:
        error = f"Type {CONFIRM} in the box to confirm; nothing was deleted."
        return await account_view(request, arcade, store, 422, delete_error=error)
    await store.delete_player(player_of(request))
    cookies = await signed_in.provider_of(request).forget(request, signed_in.user_of(request))
    return Template("account-deleted.html", cookies=cookies)


def account_router(public_url: str) -> Router:
    return Router(
        path="/account",
        route_handlers=[account, change_name, delete_account],
        guards=[posts_from(public_url), signed_in.signed_in],
        exception_handlers=signed_in.HANDLERS,
        cache_control=CacheControlHeader(no_store=True),
        include_in_schema=False,
    )
