"""The admin pages (forms, each post answered by a redirect back) and the admin JSON API.

Both go through :func:`moderation`, which checks what was asked and has the store do it and write
the audit entry in one step; the store contract says what each action does to the boards.
"""

from collections import Counter
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, QueryParameter, SkipValidation
from litestar.response import Redirect, Template

from arcade.platform import admin_windows
from arcade.platform.assembly import Arcade
from arcade.platform.windows import BadWindow
from arcade.sdk.game import GameInfo
from arcade.sdk.models import neutral_name, typed_name
from arcade.sdk.origins import posts_from
from arcade.sdk.store import Moderation, NotStored, RefusedRun, Store, StoredAudit, StoredScore, audit_reason
from arcade.server import signed_in
from arcade.server.admin.access import actor, admins_only
from arcade.server.admin.readjudication import Busy, Readjudications
from arcade.server.boards import board_windows
from arcade.server.errors import answer, invalid

CHANGES_SHOWN = 200
PAGE = 50
SCORES_SHOWN = 100
REFUSED_SHOWN = 500

FormAction = Literal["hide", "unhide", "ban", "unban", "reset-name", "reset-picture", "restore-name", "restore-picture"]
"""What the forms of a player's admin page post; each becomes one :class:`Moderation`."""


class ModerationRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /admin/api/moderations``."""

    action: Literal["hide", "unhide", "ban", "unban", "rename", "picture"]
    player: str
    reason: str
    submission_id: str | None = None
    value: str | None = None
    """rename: the name (cleaned as names are); picture: a picture URL, or null for the generated avatar."""


def moderation(request: Request, asked: ModerationRequest) -> Moderation:
    """The store's :class:`Moderation` for what an admin asked, or a 422 saying what to fix."""
    try:
        reason = audit_reason(asked.reason)
    except ValueError as error:
        raise invalid("reason", str(error)) from None
    if not reason:
        raise invalid("reason", "give a reason: the audit log keeps it")
    if asked.action in ("hide", "unhide") and not asked.submission_id:
        raise invalid("submission_id", "name the score to hide or unhide")
    value = asked.value
    if asked.action == "rename":
        try:
            value = typed_name(value or "")
        except ValueError as error:
            raise invalid("value", str(error)) from None
    return Moderation(
        action=asked.action,
        player=asked.player,
        actor=actor(signed_in.user_of(request)),
        reason=reason,
        submission_id=asked.submission_id,
        value=value,
    )


async def from_form(store: Store, player: str, action: FormAction, fields: dict) -> ModerationRequest:
    """A player page's form as a moderation: a reset is the neutral name or the generated avatar; a
    restore gives back what the audit entry ``audit`` says was there before."""
    reason = fields.get("reason", "")
    submission = fields.get("submission_id")
    if action in ("hide", "unhide", "ban", "unban"):
        return ModerationRequest(action=action, player=player, reason=reason, submission_id=submission)
    if action == "reset-name":
        return ModerationRequest(action="rename", player=player, reason=reason, value=neutral_name(player))
    if action == "reset-picture":
        return ModerationRequest(action="picture", player=player, reason=reason)
    entry = await audit_entry(store, fields.get("audit", ""))
    if entry is None or entry.player != player:
        raise invalid("audit", "name an audit entry of this player to restore from")
    kind = "rename" if action == "restore-name" else "picture"
    return ModerationRequest(action=kind, player=player, reason=reason, value=entry.before)


async def audit_entry(store: Store, seq: str) -> StoredAudit | None:
    if not seq.isdigit():
        return None
    found = await store.audit_log(1, before=int(seq) + 1)
    return found[0] if found and found[0].seq == int(seq) else None


def per_player(runs: list[RefusedRun]) -> list[tuple[str, str, int]]:
    """(player id, name, refused runs kept) for each player, most first."""
    names = {run.player: run.name for run in runs}
    return [(player, names[player], count) for player, count in Counter(run.player for run in runs).most_common()]


# -- pages ----------------------------------------------------------------------------------------


@get("/")
async def overview(
    request: Request, arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]
) -> Template:
    boards = [(game, await store.leaderboard(game, 5)) for game in arcade.ordered_games()]
    refused = await store.refused_runs(REFUSED_SHOWN)
    return await signed_in.render(
        request,
        "admin/index.html",
        boards=boards,
        audit=await store.audit_log(10),
        refused=len(refused),
        refusers=per_player(refused)[:5],
    )


@get("/games/{game_id:str}")
async def board(
    request: Request,
    arcade: NamedDependency[Arcade],
    game: NamedDependency[GameInfo],
    store: NamedDependency[SkipValidation[Store]],
    cursor: FromQuery[str | None] = None,
) -> Template:
    """The board, and the files of every window and archived board to download."""
    page = await store.leaderboard(game, PAGE, cursor)
    return await signed_in.render(
        request,
        "admin/game.html",
        game=game,
        board=page,
        windows=await board_windows(arcade, store),
        archives=await store.archives(game),
    )


@get("/games/{game_id:str}/readjudicate")
async def readjudication_page(
    request: Request,
    game: NamedDependency[GameInfo],
    store: NamedDependency[SkipValidation[Store]],
    readjudications: NamedDependency[Readjudications],
) -> Template:
    return await readjudication_view(request, game, store, readjudications)


async def readjudication_view(
    request: Request, game: GameInfo, store: Store, readjudications: Readjudications, status: int = 200, error: str = ""
) -> Template:
    """The replay's state: not run, running (the page reloads itself), failed, or its diff to publish."""
    job = readjudications.of(game)
    diff = job.diff if job is not None else None  # the replay may finish while this page is made
    names = {}
    if diff is not None:
        for change in diff.changes[:CHANGES_SHOWN]:
            if change.player not in names:
                found = await store.player(change.player)
                names[change.player] = found.name if found else change.player
    return await signed_in.render(
        request,
        "admin/readjudicate.html",
        status,
        game=game,
        job=job,
        diff=diff,
        names=names,
        shown=CHANGES_SHOWN,
        archives=await store.archives(game),
        error=error,
    )


@post("/games/{game_id:str}/readjudicate/{step:str}")
async def readjudicate_from_form(
    request: Request,
    step: FromPath[str],
    game: NamedDependency[GameInfo],
    store: NamedDependency[SkipValidation[Store]],
    readjudications: NamedDependency[Readjudications],
) -> Response:
    """``start`` a replay, or ``publish`` the finished one (the old board archived, an audit entry written)."""
    if step not in ("start", "publish"):
        raise NotFoundException(f"no re-adjudication step {step!r}: start or publish")
    try:
        if step == "start":
            readjudications.start(store, game)
        else:
            fields = await request.form()
            try:
                reason = audit_reason(str(fields.get("reason", "")))
            except ValueError as refused:
                return await readjudication_view(request, game, store, readjudications, 422, str(refused))
            await readjudications.publish(store, game, actor(signed_in.user_of(request)), reason)
    except Busy as busy:
        return await readjudication_view(request, game, store, readjudications, 409, str(busy))
    return Redirect(f"/admin/games/{game.id}/readjudicate", status_code=303)


@get("/windows")
async def windows_page(
    request: Request, arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]
) -> Template:
    return await windows_view(request, arcade, store)


async def windows_view(
    request: Request, arcade: Arcade, store: Store, status: int = 200, error: str = "", field: str = "", asked=None
) -> Template:
    return await signed_in.render(
        request,
        "admin/windows.html",
        status,
        windows=await board_windows(arcade, store),
        zone=arcade.settings.event.time_zone,
        error=error,
        field=field,
        asked=asked or {},
    )


@post("/windows/{action:str}")
async def edit_window(
    request: Request,
    action: FromPath[str],
    arcade: NamedDependency[Arcade],
    store: NamedDependency[SkipValidation[Store]],
) -> Response:
    """Add, change (its title or times) or remove an admin's session; each change in the audit log."""
    if action not in ("add", "change", "remove"):
        raise NotFoundException(f"no window action {action!r}: add, change or remove")
    fields = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    try:
        edit = admin_windows.Edit(
            action=action,
            name=fields.get("name", "").strip(),
            title=fields.get("title", ""),
            start=local_time(fields, "start"),
            end=local_time(fields, "end"),
        )
        try:
            reason = audit_reason(fields.get("reason", ""))
        except ValueError as error:
            raise BadWindow("reason", str(error)) from None
        await admin_windows.apply(store, arcade.settings.windows, edit, actor(signed_in.user_of(request)), reason)
    except BadWindow as bad:
        return await windows_view(request, arcade, store, 422, str(bad), bad.field, fields if action == "add" else None)
    return Redirect("/admin/windows", status_code=303)


def local_time(fields: dict, key: str) -> datetime | None:
    """A form's ``datetime-local`` value (a time in the event's zone), None if empty; a BadWindow if it is no time."""
    text = fields.get(key, "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise BadWindow(key, f"{text!r} is not a date and time; give it as 2026-12-01T14:30") from None


@get("/players/{player:str}")
async def player_page(
    request: Request,
    player: FromPath[str],
    arcade: NamedDependency[Arcade],
    store: NamedDependency[SkipValidation[Store]],
) -> Template:
    return await player_view(request, arcade, store, player)


async def player_view(request: Request, arcade: Arcade, store: Store, player: str, status: int = 200, error: str = ""):
    found = await store.player(player)
    if found is None:
        raise NotFoundException(f"no player {player!r}")
    games = {game.id: game for game in arcade.ordered_games()}
    history = [entry for entry in await store.audit_log(1000) if entry.player == player]
    return await signed_in.render(
        request,
        "admin/player.html",
        status,
        player=found,
        games=games,
        bests=await store.player_bests(player, list(games.values())),
        scores=await store.scores_of(player, SCORES_SHOWN),
        history=history,
        error=error,
    )


@post("/players/{player:str}/{action:str}")
async def moderate_from_form(
    request: Request,
    player: FromPath[str],
    action: FromPath[str],
    arcade: NamedDependency[Arcade],
    store: NamedDependency[SkipValidation[Store]],
) -> Response:
    try:
        chosen = msgspec.convert(action, FormAction)
    except msgspec.ValidationError:
        raise NotFoundException(f"no admin action {action!r}") from None
    fields = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    try:
        asked = await from_form(store, player, chosen, fields)
        await store.moderate(moderation(request, asked), arcade.ordered_games())
    except ValidationException as error:  # said on the page, which shows the forms again
        return await player_view(request, arcade, store, player, 422, error.extra[0]["message"])
    return Redirect(f"/admin/players/{player}", status_code=303)


@get("/audit")
async def audit_page(
    request: Request,
    store: NamedDependency[SkipValidation[Store]],
    before: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> Template:
    entries = await store.audit_log(PAGE + 1, before)
    more = entries[PAGE - 1].seq if len(entries) > PAGE else None
    return await signed_in.render(request, "admin/audit.html", entries=entries[:PAGE], more=more)


@get("/refused")
async def refused_page(request: Request, store: NamedDependency[SkipValidation[Store]]) -> Template:
    runs = await store.refused_runs(REFUSED_SHOWN)
    return await signed_in.render(request, "admin/refused.html", runs=runs, counts=per_player(runs))


# -- JSON API -------------------------------------------------------------------------------------


@post("/api/moderations", status_code=201)
async def moderate_api(
    request: Request, arcade: NamedDependency[Arcade], store: NamedDependency[SkipValidation[Store]]
) -> StoredAudit:
    """One moderation; the CSRF token goes in ``X-CSRF-Token`` (``GET /admin/api/session`` gives it)."""
    try:
        asked = msgspec.json.decode(await request.body(), type=ModerationRequest)
    except msgspec.DecodeError as error:
        raise invalid("(body)", str(error)) from None
    return await store.moderate(moderation(request, asked), arcade.ordered_games())


@get("/api/session")
async def session(request: Request) -> dict:
    """Who is signed in, and the CSRF token their posts carry."""
    token, _ = await signed_in.provider_of(request).form_token(request)
    user = signed_in.user_of(request)
    return {"name": user.name, "actor": actor(user), "csrf_token": token}


@get("/api/audit")
async def audit_api(
    store: NamedDependency[SkipValidation[Store]],
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = PAGE,
    before: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> list[StoredAudit]:
    return await store.audit_log(limit, before)


@get("/api/refused-runs")
async def refused_api(
    store: NamedDependency[SkipValidation[Store]], limit: Annotated[int, QueryParameter(ge=1, le=500)] = PAGE
) -> list[RefusedRun]:
    return await store.refused_runs(limit)


@get("/api/players/{player:str}/scores")
async def scores_api(
    player: FromPath[str],
    store: NamedDependency[SkipValidation[Store]],
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = SCORES_SHOWN,
) -> list[StoredScore]:
    return await store.scores_of(player, limit)


def not_stored(request: Request, error: NotStored) -> Response:
    return answer(request, 404, str(error))


def admin_router(public_url: str) -> Router:
    """Everything under ``/admin``: signed in, an admin, posts from the arcade's own pages with the
    session's CSRF token; never cached, never in the public API reference."""
    return Router(
        path="/admin",
        route_handlers=[
            overview,
            board,
            readjudication_page,
            readjudicate_from_form,
            windows_page,
            edit_window,
            player_page,
            moderate_from_form,
            audit_page,
            refused_page,
            moderate_api,
            session,
            audit_api,
            refused_api,
            scores_api,
        ],
        guards=[posts_from(public_url), signed_in.signed_in, admins_only],
        exception_handlers={**signed_in.HANDLERS, NotStored: not_stored},
        cache_control=CacheControlHeader(no_store=True),
        include_in_schema=False,
    )
