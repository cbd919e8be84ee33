"""The built-in identity provider: works offline, so it is the default at an event."""

from arcade.plugins.idp_builtin import addresses, keys
from arcade.plugins.idp_builtin.oauth import OAuth
from arcade.sdk.origins import posts_from
from arcade.plugins.idp_builtin.pages import device_router
from arcade.plugins.idp_builtin.provider import BuiltinProvider, BuiltinSettings
from arcade.plugins.idp_builtin.routes import Discovery
from litestar import Router
from litestar.di import Provide

from arcade.sdk.hookspecs import hookimpl

NAME = "builtin"
FORM_LIMIT = 16 * 1024
"""Bytes a form or token request may have: its longest honest one (a sign-up) is well under 1 KiB."""


@hookimpl
def arcade_identity_provider(name, settings, context):
    if name != NAME:
        return None
    options = settings.decode(BuiltinSettings)
    store = context.store
    if store is not None and store.shareable:  # read at arcade_startup, once the store is open
        ring = keys.KeyRing(keys.StoredKeys(store, context.data_dir))
    else:
        ring = keys.KeyRing.in_folder(context.data_dir)
    return BuiltinProvider(context.public_url, ring, options, store)


@hookimpl
def arcade_routes(context):
    provider = context.identity
    if isinstance(provider, BuiltinProvider):
        given = {"provider": Provide(lambda: provider, use_cache=True, sync_to_thread=False)}
        return [
            Router(
                path="/",
                route_handlers=[Discovery, OAuth, device_router(provider)],
                dependencies=given,
                guards=[posts_from(provider.issuer)],
                request_max_body_size=FORM_LIMIT,
            )
        ]
    return []


@hookimpl
async def arcade_startup(context):
    """Before any request: the signing keys are read, and players keyed by an earlier address of this
    provider move to its stable name."""
    if isinstance(context.identity, BuiltinProvider):
        await context.identity.keys.start()
        await addresses.adopt(context.store, context.identity.issuer)


@hookimpl
async def arcade_shutdown(context):
    if isinstance(context.identity, BuiltinProvider):
        await context.identity.keys.stop()
