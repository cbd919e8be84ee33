"""The plugin contracts of Badge Arcade: every hook a plugin may implement.

This module is the one place hooks are declared. Each hook's docstring is its
documentation (``arcade plugins`` and the docs are built from it) and a test
checks that every hook here is documented and exercised.

A plugin is any module or object registered under the entry-point group
``arcade``; it implements hooks by defining functions of these names decorated
with :data:`hookimpl`.
"""

import pluggy

hookspec = pluggy.HookspecMarker("arcade")
hookimpl = pluggy.HookimplMarker("arcade")


@hookspec
def arcade_register_games(register):
    """Register the games this plugin provides.

    Call ``register(game)`` once per game, with a :class:`arcade.sdk.game.GameInfo`.
    The game's ``info.id`` must be unique across all plugins; a duplicate stops
    start-up with an error naming both plugins.
    """


@hookspec(firstresult=True)
def arcade_identity_provider(name, settings, context):
    """Return the identity provider called ``name``, or ``None`` if it is not yours.

    ``settings`` is the table ``[identity.<name>]``, an :class:`arcade.sdk.settings.PluginSettings`:
    ``settings.decode(MySettings)`` gives your own typed settings, and a wrong key is reported
    naming the file or the environment variable it came from. ``context`` is the
    :class:`arcade.platform.assembly.Context` (data folder, public URL, the store).
    The object returned follows :class:`arcade.sdk.identity.IdentityProvider`.
    The module declares the name it answers to as ``NAME``, so a name no plugin
    answers to is refused with the list of those installed.
    """


@hookspec(firstresult=True)
def arcade_store(name, settings, context):
    """Return the store called ``name``, or ``None`` if it is not yours.

    ``settings`` is the table ``[store.<name>]``, decoded like the identity provider's;
    ``context`` is the
    :class:`arcade.platform.assembly.Context` without a store. The object returned
    follows :class:`arcade.sdk.store.Store`; the module declares its name as ``NAME``.
    """


@hookspec
def arcade_routes(context):
    """Return a list of extra Litestar route handlers, controllers or routers.

    The identity provider's own pages (discovery, JWKS, device verification)
    arrive through this hook. Called once when the application is built.
    """


@hookspec
def arcade_score_accepted(game, record):
    """React to a score that is now durably stored (live pages, webhooks).

    ``game`` is the :class:`arcade.sdk.game.GameInfo`, ``record`` the
    :class:`arcade.sdk.models.ScoreAccepted` answered to the badge. Called on the
    server's event loop: do not block; hand slow work to a task.

    Each plugin's implementation is called on its own: one that raises is logged (logger
    ``arcade``, naming the plugin and the hook) and the others still hear of the score; the badge
    gets its answer either way, as the score is stored.
    """


@hookspec
def arcade_startup(settings, context):
    """Open what the plugin needs while the arcade serves: clients, connections, background tasks.

    ``settings`` is the plugin's own table ``[plugins.<name>]``, where ``<name>`` is its entry-point
    name as ``arcade plugins`` lists it: an :class:`arcade.sdk.settings.PluginSettings` to
    ``decode`` into the plugin's msgspec Struct (an empty table when the file has none).
    ``context`` is the :class:`arcade.platform.assembly.Context`, its store open.

    Called once per server process, on its event loop, before the first request, plugins in the
    order they were loaded. It may be a coroutine function: the arcade awaits it. Raising stops
    start-up with the error, after the plugins already started have shut down.
    """


@hookspec
def arcade_shutdown(context):
    """Close what :func:`arcade_startup` opened; finish or give up on work still in flight.

    Called once, after the last request is answered and before the store closes, plugins in the
    reverse order of their start-up; also when a start-up failed part way, so close only what was
    opened. It may be a coroutine function: the arcade awaits it, so keep it short and bounded.
    One that raises is logged and the others still shut down.
    """
