"""The verification pages, for the person holding a phone or a laptop (RFC 8628 §3.3).

``/device/<link>`` (the badge's QR code) shows the code to compare with the badge and what the
badge said about itself, then logs the person in or signs them up, and takes their Approve or Deny.
``/device`` logs the person in first and then takes a typed user code, so that a wrong code spends
the budget of whoever typed it (:func:`typed_code_budgets`), not everyone's. Every form carries a
CSRF token bound to the browser's server-side session (``web_sessions``).
"""

import math
import time
from pathlib import Path

from arcade.plugins.idp_builtin import accounts
from arcade.plugins.idp_builtin.codes import (
    USER_CODE_EXAMPLE,
    USER_CODE_LENGTH,
    read_user_code,
    show_user_code,
)
from arcade.plugins.idp_builtin.grants import FoundGrant
from arcade.sdk.origins import SAFE_METHODS
from arcade.plugins.idp_builtin.provider import BuiltinProvider, BuiltinSettings
from arcade.plugins.idp_builtin.web_sessions import FORM_FIELD, PATH, WebSessions
from litestar import Controller, Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template

from arcade.sdk import budgets
from arcade.sdk.budgets import Budget, TooManyAttempts
from arcade.sdk.errors import ArcadeError
from arcade.sdk.store import StoreUnavailable
from arcade.sdk.web import PRIVATE_PATH

STYLESHEET = (Path(__file__).parent / "static" / "device.css").read_text(encoding="utf-8")
NO_STORE = {"Cache-Control": "no-store"}
GONE = (
    "This login has expired or was already answered",
    "Nothing was changed. To log in, start again on your badge: it shows a new code.",
)


def message(title: str, text: str, status_code: int = 200, done: bool = False, headers: dict | None = None) -> Template:
    """A page that only tells."""
    context = {"title": title, "text": text, "done": done}
    return Template("device/message.html", context=context, status_code=status_code, headers=headers)


def refusal(title: str, text: str, status_code: int) -> Template:
    """A page for an exception handler, whose answers the router's ``Cache-Control`` misses."""
    return message(title, text, status_code, headers=NO_STORE)


def page_error(request: Request, error: Exception) -> Response:
    """A page instead of JSON when a form is stale (CSRF) or the store cannot save."""
    if isinstance(error, StoreUnavailable):
        return refusal("Please try again", "The server could not save that. Try again in a moment.", 503)
    return refusal("Please reload", "This form is out of date. Reload the page and try again.", 403)


async def form_fields(request: Request) -> dict[str, str]:
    """The form's text fields, first value of each; a file sent where text belongs counts as absent."""
    fields: dict[str, str] = {}
    for key, value in (await request.form()).multi_items():
        if isinstance(value, str):
            fields.setdefault(key, value)
    return fields


def forms_from(sessions: WebSessions):
    """A guard refusing a post whose CSRF token is not the one this browser's session gives."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        if connection.scope["method"] in SAFE_METHODS:
            return
        sent = (await form_fields(connection)).get(FORM_FIELD, "")
        if not await sessions.form_token_matches(connection, sent):
            raise PermissionDeniedException("the form's CSRF token is not this browser's; reload the page")

    return guard


def device_router(provider: BuiltinProvider) -> Router:
    """The verification pages, behind the CSRF check; the router around it provides ``provider``."""
    return Router(
        path=PATH,
        route_handlers=[DevicePages],
        guards=[forms_from(provider.sessions)],
        cache_control=CacheControlHeader(no_store=True),  # pages with a session and a CSRF token; errors: NO_STORE
        opt={PRIVATE_PATH: True},  # a verification link is a secret: logs show /device/{link}
        include_in_schema=False,
    )


def typed_code_budgets(settings: BuiltinSettings, account: str, address: str) -> tuple[Budget, ...]:
    """What a wrong typed code spends: the typist's own account's budget, their address's, and
    everyone's. The last bounds the guesses that can meet any one code: its window is a code's
    whole life. A spent budget refuses before the others are touched, so a stranger whose own
    budget is spent spends no one else's."""
    limits, life = settings.limits, settings.device_code_ttl
    return (
        Budget(f"wrong-user-code-by:{account}", limits.wrong_user_codes_per_account, life),
        Budget(f"wrong-user-code-from:{address}", limits.wrong_user_codes_per_address, life),
        Budget("wrong-user-code", limits.wrong_user_codes, life),
    )


def password_budgets(provider: BuiltinProvider, request: Request, account: str, device: str | None) -> tuple:
    """A browser that logged in to ``account`` before (``device``) has a budget of its own, which no
    one else's guesses spend; every other browser shares the account's and its address's."""
    per_account = provider.settings.limits.wrong_passwords_per_account
    if device is not None:
        return (Budget(f"wrong-password-device:{device}", per_account, budgets.QUARTER_HOUR),)
    per_address = provider.settings.limits.wrong_passwords_per_address
    return (
        Budget(f"wrong-password:{account}", per_account, budgets.QUARTER_HOUR),
        Budget(f"wrong-password-from:{budgets.address_of(request)}", per_address, budgets.QUARTER_HOUR),
    )


def then_of(fields: dict) -> str | None:
    """Where a sign-in asked to return (``then``): only a path of this arcade, never another site."""
    then = fields.get("then") or ""
    return then if then.startswith("/") and not then.startswith("//") and "\\" not in then else None


def here(link: str | None) -> str:
    """The page a form under ``link`` (or under none) is on."""
    return PATH if link is None else f"{PATH}/{link}"


async def render(
    provider: BuiltinProvider, request: Request, template: str, status_code: int, headers: dict | None = None, **context
) -> Template:
    """A page with forms: who is logged in, the CSRF token (with a new browser's form cookie), and
    after a refused post what was typed, passwords left out."""
    token, cookie = await provider.sessions.form_token(request)
    typed = await form_fields(request)
    common = {
        "person": await provider.sessions.person(request),
        "csrf": token,
        "form": {key: value for key, value in typed.items() if "password" not in key},
        "active_form": "sign-up" if "sign_up_error" in context else "log-in",
        "then": then_of({**request.query_params, **typed}),
    }
    cookies = [cookie] if cookie else []
    return Template(template, context={**common, **context}, status_code=status_code, headers=headers, cookies=cookies)


async def enter_page(provider: BuiltinProvider, request: Request, status_code: int = 200, **context) -> Template:
    """``/device``: log in, then type the code."""
    return await render(
        provider,
        request,
        "device/enter.html",
        status_code,
        here=here(None),
        letters=USER_CODE_LENGTH,
        example=USER_CODE_EXAMPLE,
        **context,
    )


async def confirm_page(
    provider: BuiltinProvider, request: Request, found: FoundGrant, status_code: int = 200, **context
) -> Template:
    """``/device/<link>``: the code to compare, what the badge said, and the person's choice."""
    grant = found.grant
    now = time.time()
    return await render(
        provider,
        request,
        "device/confirm.html",
        status_code,
        here=here(grant.link),
        user_code=show_user_code(grant.user_code),
        device_name=grant.device_name,
        address=grant.address,
        asked_minutes_ago=int(now - grant.created_at) // 60,
        expires_in_minutes=math.ceil((grant.expires_at - now) / 60),
        **context,
    )


async def account_page(
    provider: BuiltinProvider, request: Request, found: FoundGrant | None, status_code: int, **errors
) -> Template:
    """The page a log-in or sign-up form was on: a login's confirm page, or the code entry page."""
    if found is None:
        return await enter_page(provider, request, status_code, **errors)
    return await confirm_page(provider, request, found, status_code, **errors)


class Gone(ArcadeError):
    """The login a page is for was answered or expired."""


def gone(request: Request, _: Gone) -> Template:
    return refusal(*GONE, status_code=404)


async def pending(provider: BuiltinProvider, link: str | None) -> FoundGrant | None:
    """The pending login the link names (None for the code entry page, which has none)."""
    if link is None:
        return None
    found = await provider.grants.by_link(link)
    if found is None:
        raise Gone()
    return found


class DevicePages(Controller):
    exception_handlers = {PermissionDeniedException: page_error, StoreUnavailable: page_error, Gone: gone}

    @get("/style.css", cache_control=CacheControlHeader(max_age=3600))
    async def stylesheet(self) -> Response[str]:
        return Response(STYLESHEET, media_type="text/css")

    @get("/")
    async def enter(self, request: Request, provider: NamedDependency[BuiltinProvider]) -> Template:
        return await enter_page(provider, request)

    @post("/")
    async def enter_code(self, request: Request, provider: NamedDependency[BuiltinProvider]) -> Response:
        """A typed user code, from a logged-in person: a wrong one spends their budgets."""
        person = await provider.sessions.person(request)
        if person is None:  # nothing is looked up: the page asks to log in first
            return Redirect(PATH, status_code=303)
        code = read_user_code((await form_fields(request)).get("code", ""))
        if code is None:
            error = (
                f"A code has {USER_CODE_LENGTH} letters, like {USER_CODE_EXAMPLE}. Copy it from your badge's screen."
            )
            return await enter_page(provider, request, 400, error=error)
        now = int(time.time())
        attempts = typed_code_budgets(provider.settings, person[0].username, budgets.address_of(request))
        try:
            await budgets.spend(provider.store, now, *attempts)
        except TooManyAttempts as error:
            minutes = math.ceil(error.retry_after / 60)
            text = (
                f"Too many wrong codes were typed lately. Wait {minutes} minutes, "
                "or scan the QR code on your badge instead."
            )
            return await enter_page(provider, request, 429, headers={"Retry-After": str(error.retry_after)}, error=text)
        found = await provider.grants.by_user_code(code)
        if found is None:
            error = "That code is not valid. Check it against your badge: a code works for a few minutes only."
            return await enter_page(provider, request, 400, error=error)
        await budgets.give_back(provider.store, now, *attempts)
        return Redirect(f"{PATH}/{found.grant.link}", status_code=303)

    @get("/{link:str}")
    async def confirm(
        self, request: Request, link: FromPath[str], provider: NamedDependency[BuiltinProvider]
    ) -> Response:
        return await confirm_page(provider, request, await pending(provider, link))

    @post(["/log-in", "/{link:str}/log-in"])
    async def log_in(
        self, request: Request, provider: NamedDependency[BuiltinProvider], link: FromPath[str | None] = None
    ) -> Response:
        found = await pending(provider, link)
        form = await form_fields(request)
        username = form.get("username", "")
        now = int(time.time())
        # Usernames have at most 32 characters: what was typed is cut to 64, so the counter kept
        # in the store is never as big as the form (a long name still cannot be an account's).
        account_key = accounts.username_key(username)[:64]
        device = await provider.sessions.known_device(request, account_key)
        attempts = password_budgets(provider, request, account_key, device)
        try:
            await budgets.spend(provider.store, now, *attempts)
        except TooManyAttempts:
            error = "Too many wrong passwords were tried. Wait a quarter of an hour and try again."
            return await account_page(provider, request, found, 429, log_in_error=error)
        account = await accounts.log_in(provider.store, username, form.get("password", ""))
        if account is None:
            return await account_page(provider, request, found, 400, log_in_error="Wrong username or password.")
        await budgets.give_back(provider.store, now, *attempts)
        cookies = [await provider.sessions.begin(account)]
        if device is None:
            cookies.append(await provider.sessions.remember_device(account))
        return Redirect(then_of(form) or here(link), status_code=303, cookies=cookies)

    @post(["/sign-up", "/{link:str}/sign-up"])
    async def sign_up(
        self, request: Request, provider: NamedDependency[BuiltinProvider], link: FromPath[str | None] = None
    ) -> Response:
        found = await pending(provider, link)
        form = await form_fields(request)
        now = int(time.time())
        budget = Budget(
            f"sign-up:{budgets.address_of(request)}", provider.settings.limits.sign_ups_per_address, budgets.HOUR
        )
        try:
            await budgets.spend(provider.store, now, budget)
        except TooManyAttempts:
            error = "Too many accounts were made from here lately. Try again in an hour, or log in."
            return await account_page(provider, request, found, 429, sign_up_error=error)
        try:
            account = await accounts.sign_up(
                provider.store,
                form.get("username", ""),
                form.get("name", ""),
                form.get("password", ""),
                form.get("picture", ""),
            )
        except accounts.AccountError as error:
            if not isinstance(error, accounts.UsernameTaken):  # refused before any hashing
                await budgets.give_back(provider.store, now, budget)
            return await account_page(
                provider, request, found, 400, sign_up_error=str(error), sign_up_field=error.field
            )
        cookies = [await provider.sessions.begin(account), await provider.sessions.remember_device(account)]
        return Redirect(then_of(form) or here(link), status_code=303, cookies=cookies)

    @post(["/log-out", "/{link:str}/log-out"])
    async def log_out(
        self, request: Request, provider: NamedDependency[BuiltinProvider], link: FromPath[str | None] = None
    ) -> Response:
        return Redirect(here(link), status_code=303, cookies=[await provider.sessions.end(request)])

    @post("/{link:str}/approve")
    async def approve(
        self, request: Request, link: FromPath[str], provider: NamedDependency[BuiltinProvider]
    ) -> Response:
        found = await pending(provider, link)
        person = await provider.sessions.person(request)
        if person is None:
            return Redirect(here(link), status_code=303)
        account, session = person
        if not await provider.grants.approve(found, account.username, session.created_at):
            raise Gone()
        text = f"Your badge logs in as {account.name} within seconds. You can return to your badge."
        return message("Approved", text, done=True)

    @post("/{link:str}/deny")
    async def deny(self, link: FromPath[str], provider: NamedDependency[BuiltinProvider]) -> Response:
        """Anyone holding the link may deny: it is what to do when the codes do not match."""
        if not await provider.grants.deny(await pending(provider, link)):
            raise Gone()
        return message("Denied", "The badge was not logged in. You can return to your badge.", done=True)
