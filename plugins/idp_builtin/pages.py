"""The verification pages, for the person holding a phone or a laptop (RFC 8628 §3.3).

``/device`` takes a typed user code; ``/device/<link>`` (the badge's QR code)
shows the code to compare with the badge and what the badge said about itself,
then logs the person in or signs them up, and takes their Approve or Deny.
Every form carries a CSRF token (Litestar's double-submit cookie, signed).
"""

import hashlib
import math
import time
from pathlib import Path

from arcade.plugins.idp_builtin import accounts
from arcade.plugins.idp_builtin.codes import read_user_code, show_user_code
from arcade.plugins.idp_builtin.grants import FoundGrant
from arcade.plugins.idp_builtin.provider import BuiltinProvider
from arcade.plugins.idp_builtin.web_sessions import PATH, cookie_place
from litestar import Controller, Request, Response, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.params import FromPath
from litestar.response import Redirect, Template

from arcade.sdk import budgets
from arcade.sdk.budgets import Budget, TooManyAttempts
from arcade.sdk.web import PRIVATE_PATH
from arcade.sdk.store import StoreUnavailable

STYLESHEET = (Path(__file__).parent / "static" / "device.css").read_text(encoding="utf-8")
GONE = (
    "This login has expired or was already answered",
    "Nothing was changed. To log in, start again on your badge: it shows a new code.",
)


def page_error(request: Request, error: Exception) -> Response:
    """A page instead of JSON when a form is stale (CSRF) or the store cannot save."""
    if isinstance(error, StoreUnavailable):
        title, text, status = "Please try again", "The server could not save that. Try again in a moment.", 503
    else:
        title, text, status = "Please reload", "This form is out of date. Reload the page and try again.", 403
    return Template("device/message.html", context={"title": title, "text": text}, status_code=status)


async def form_fields(request: Request) -> dict[str, str]:
    """The form's text fields, first value of each; a file sent where text belongs counts as absent."""
    fields: dict[str, str] = {}
    for key, value in (await request.form()).multi_items():
        if isinstance(value, str):
            fields.setdefault(key, value)
    return fields


def device_router(provider: BuiltinProvider) -> Router:
    """The verification pages, behind a CSRF check keyed to ``provider``'s signing key; the router
    around it provides ``provider``."""
    name, path = cookie_place("arcade_csrf", provider.secure)
    csrf = CSRFConfig(
        secret=_csrf_secret(provider),
        cookie_name=name,
        cookie_path=path,
        cookie_httponly=True,
        cookie_secure=provider.secure,
        cookie_samesite="lax",
    )
    return Router(
        path=PATH,
        route_handlers=[DevicePages],
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf)],
        cache_control=CacheControlHeader(no_store=True),  # pages with a session and a CSRF token
        opt={PRIVATE_PATH: True},  # a verification link is a secret: logs show /device/{link}
        include_in_schema=False,
    )


def user_code_budgets(provider: BuiltinProvider, request: Request) -> tuple[Budget, Budget]:
    settings = provider.settings
    window, address = settings.device_code_ttl, budgets.address_of(request)
    return (
        Budget(f"wrong-user-code:{address}", settings.limits.wrong_user_codes_per_address, window),
        Budget("wrong-user-code", settings.limits.wrong_user_codes, window),
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


async def confirm_page(
    provider: BuiltinProvider, request: Request, found: FoundGrant, status_code: int = 200, **errors
) -> Template:
    grant = found.grant
    now = time.time()
    context = {
        "link": grant.link,
        "user_code": show_user_code(grant.user_code),
        "device_name": grant.device_name,
        "address": grant.address,
        "asked_minutes_ago": int(now - grant.created_at) // 60,
        "expires_in_minutes": math.ceil((grant.expires_at - now) / 60),
        "person": await provider.sessions.person(request),
        "form": {key: value for key, value in (await form_fields(request)).items() if "password" not in key},
        "active_form": "sign-up" if "sign_up_error" in errors else "log-in",
        **errors,
    }
    return Template("device/confirm.html", context=context, status_code=status_code)


def gone() -> Template:
    title, text = GONE
    return Template("device/message.html", context={"title": title, "text": text}, status_code=404)


class DevicePages(Controller):
    exception_handlers = {PermissionDeniedException: page_error, StoreUnavailable: page_error}

    @get("/style.css", cache_control=CacheControlHeader(max_age=3600))
    async def stylesheet(self) -> Response[str]:
        return Response(STYLESHEET, media_type="text/css")

    @get("/")
    async def enter(self) -> Template:
        return Template("device/enter.html", context={"typed": ""})

    @post("/")
    async def enter_code(self, request: Request, provider: NamedDependency[BuiltinProvider]) -> Response:
        """A typed user code: every wrong one counts against the guessing budgets."""
        typed = (await form_fields(request)).get("code", "")
        context = {"typed": typed}
        code = read_user_code(typed)
        if code is None:
            error = "A code has 8 letters, like BCDF-GHJK. Copy it from your badge's screen."
            return Template("device/enter.html", context={**context, "error": error}, status_code=400)
        now = int(time.time())
        attempts = user_code_budgets(provider, request)
        try:
            await budgets.spend(provider.store, now, *attempts)
        except TooManyAttempts as error:
            minutes = math.ceil(error.retry_after / 60)
            text = (
                f"Too many wrong codes were tried lately. Wait {minutes} minutes, "
                "or scan the QR code on your badge instead."
            )
            headers = {"Retry-After": str(error.retry_after)}
            return Template("device/enter.html", context={**context, "error": text}, status_code=429, headers=headers)
        found = await provider.grants.by_user_code(code)
        if found is None:
            error = "That code is not valid. Check it against your badge: a code works for a few minutes only."
            return Template("device/enter.html", context={**context, "error": error}, status_code=400)
        await budgets.give_back(provider.store, now, *attempts)
        return Redirect(f"{PATH}/{found.grant.link}", status_code=303)

    @get("/{link:str}")
    async def confirm(
        self, request: Request, link: FromPath[str], provider: NamedDependency[BuiltinProvider]
    ) -> Response:
        found = await provider.grants.by_link(link)
        return gone() if found is None else await confirm_page(provider, request, found)

    @post("/{link:str}/log-in")
    async def log_in(
        self, request: Request, link: FromPath[str], provider: NamedDependency[BuiltinProvider]
    ) -> Response:
        found = await provider.grants.by_link(link)
        if found is None:
            return gone()
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
            return await confirm_page(provider, request, found, 429, log_in_error=error)
        account = await accounts.log_in(provider.store, username, form.get("password", ""))
        if account is None:
            return await confirm_page(provider, request, found, 400, log_in_error="Wrong username or password.")
        await budgets.give_back(provider.store, now, *attempts)
        cookies = [await provider.sessions.begin(account)]
        if device is None:
            cookies.append(await provider.sessions.remember_device(account))
        return Redirect(f"{PATH}/{link}", status_code=303, cookies=cookies)

    @post("/{link:str}/sign-up")
    async def sign_up(
        self, request: Request, link: FromPath[str], provider: NamedDependency[BuiltinProvider]
    ) -> Response:
        found = await provider.grants.by_link(link)
        if found is None:
            return gone()
        form = await form_fields(request)
        now = int(time.time())
        budget = Budget(
            f"sign-up:{budgets.address_of(request)}", provider.settings.limits.sign_ups_per_address, budgets.HOUR
        )
        try:
            await budgets.spend(provider.store, now, budget)
        except TooManyAttempts:
            error = "Too many accounts were made from here lately. Try again in an hour, or log in."
            return await confirm_page(provider, request, found, 429, sign_up_error=error)
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
            return await confirm_page(
                provider, request, found, 400, sign_up_error=str(error), sign_up_field=error.field
            )
        cookies = [await provider.sessions.begin(account), await provider.sessions.remember_device(account)]
        return Redirect(f"{PATH}/{link}", status_code=303, cookies=cookies)

    @post("/{link:str}/approve")
    async def approve(
        self, request: Request, link: FromPath[str], provider: NamedDependency[BuiltinProvider]
    ) -> Response:
        found = await provider.grants.by_link(link)
        person = await provider.sessions.person(request)
        if found is None:
            return gone()
        if person is None:
            return Redirect(f"{PATH}/{link}", status_code=303)
        account, session = person
        if not await provider.grants.approve(found, account.username, session.created_at):
            return gone()
        text = f"Your badge logs in as {account.name} within seconds. You can return to your badge."
        return Template("device/message.html", context={"title": "Approved", "text": text, "done": True})

    @post("/{link:str}/deny")
    async def deny(self, link: FromPath[str], provider: NamedDependency[BuiltinProvider]) -> Response:
        """Anyone holding the link may deny: it is what to do when the codes do not match."""
        found = await provider.grants.by_link(link)
        if found is None or not await provider.grants.deny(found):
            return gone()
        text = "The badge was not logged in. You can return to your badge."
        return Template("device/message.html", context={"title": "Denied", "text": text, "done": True})

    @post("/{link:str}/log-out")
    async def log_out(
        self, request: Request, link: FromPath[str], provider: NamedDependency[BuiltinProvider]
    ) -> Response:
        return Redirect(f"{PATH}/{link}", status_code=303, cookies=[await provider.sessions.end(request)])


def _csrf_secret(provider: BuiltinProvider) -> str:
    """Derived from the signing key, so every server process sharing the key checks the same tokens."""
    private = provider.keys.keys[0].as_dict(private=True)["d"]
    return hashlib.sha256(f"arcade csrf\0{private}".encode()).hexdigest()
