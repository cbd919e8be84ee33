"""The arcade assembled from its settings: plugins, games, the store and the identity provider."""

import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path

from arcade.platform import loader
from arcade.platform.config import Settings
from arcade.sdk.errors import ArcadeError, ConfigError, PluginError
from arcade.sdk.game import GameInfo
from arcade.sdk.identity import IdentityProvider
from arcade.sdk.settings import located
from arcade.sdk.store import Store

log = logging.getLogger("arcade")

DEFAULT_STORE = "tinydb"
DEFAULT_IDENTITY = "builtin"


@dataclass
class Context:
    """What plugins are handed when they build their store, provider or routes."""

    settings: Settings
    data_dir: Path
    public_url: str
    store: Store | None = None
    identity: IdentityProvider | None = None


@dataclass
class Arcade:
    """Everything a running arcade needs; built once by :func:`assemble`."""

    settings: Settings
    context: Context
    manager: object
    games: dict[str, GameInfo] = field(default_factory=dict)
    routes: list = field(default_factory=list)
    """The plugins' extra Litestar route handlers, controllers and routers (``arcade_routes``)."""
    started: bool = False

    async def start(self) -> None:
        """Open the store, then start the plugins (``arcade_startup``, each with its own table).

        Called by the app's lifespan; a second call does nothing, so ``arcade serve`` can start
        before binding the port and report a store or a plugin that cannot start."""
        if self.started:
            return
        await self.store.start()
        self.started = True
        try:
            for impl in self.manager.hook.arcade_startup.get_hookimpls():
                settings = self.settings.table("plugins", impl.plugin_name)
                try:
                    await _call(impl, settings=settings, context=self.context)
                except ArcadeError:
                    raise
                except Exception as error:
                    raise PluginError(f"plugin {impl.plugin_name} failed to start: {error!r}") from error
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Shut the plugins down in reverse order, then make every acknowledged write durable and
        close the store."""
        if self.started:
            self.started = False
            for impl in reversed(self.manager.hook.arcade_shutdown.get_hookimpls()):
                try:
                    await _call(impl, context=self.context)
                except Exception:
                    log.exception("plugin %s failed in arcade_shutdown; the others still shut down", impl.plugin_name)
            await self.store.close()

    def announce(self, hook: str, **arguments) -> None:
        """Tell every plugin of an event (``announce("arcade_score_accepted", game=..., record=...)``),
        each on its own: one that raises is logged and the others still hear of it, and the caller
        (a badge's request, whose score is already stored) does not fail with it."""
        for impl in reversed(getattr(self.manager.hook, hook).get_hookimpls()):  # pluggy's order
            try:
                impl.function(**_wanted(impl, arguments))
            except Exception:
                log.exception("plugin %s failed in %s; the other plugins still heard of it", impl.plugin_name, hook)

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def identity(self) -> IdentityProvider:
        return self.context.identity

    def ordered_games(self) -> list[GameInfo]:
        return sorted(self.games.values(), key=lambda game: (game.sort_order, game.title))

    def active(self) -> dict[str, str]:
        """Which plugin answers for the store and the identity provider."""
        return {
            "store": self.settings.selected("store", DEFAULT_STORE)[0],
            "identity": self.settings.selected("identity", DEFAULT_IDENTITY)[0],
        }


def assemble(settings: Settings, data_dir: str | Path | None = None, with_store: bool = True) -> Arcade:
    """Load the plugins and build the store, identity provider, routes and games they provide.

    ``with_store=False`` builds the identity provider without a store, for
    commands that must not open the store while a server holds it. The games come
    last, so a plugin left out for failing at anything before has none on the menu.
    """
    manager = loader.load(settings.plugins.disabled, settings.plugins.strict)
    _check_tables(settings)
    context = Context(
        settings=settings,
        data_dir=private_folder(Path(data_dir or settings.data_dir)),
        public_url=settings.public_url,
    )
    if with_store:
        context.store = _answer(manager.hook.arcade_store, "store", "store", DEFAULT_STORE, context)
    context.identity = _answer(
        manager.hook.arcade_identity_provider, "identity", "identity provider", DEFAULT_IDENTITY, context
    )
    routes = collect_routes(manager, context)
    return Arcade(settings=settings, context=context, manager=manager, games=collect_games(manager), routes=routes)


def private_folder(folder: Path) -> Path:
    """The data folder, made readable by this user alone (0700): it holds the signing key, and
    whoever can write in it could put their own key there. One that others may write is refused."""
    try:
        folder.mkdir(mode=0o700, parents=True)
        folder.chmod(0o700)  # mkdir's mode is masked by the umask
    except FileExistsError:
        mode = folder.stat().st_mode & 0o777
        if mode & 0o022:
            raise ConfigError(
                f"the data folder {folder} can be written by other users (mode {mode:o}), who could replace "
                f"the signing key or the scores; make it yours alone: chmod 700 {folder}"
            ) from None
    return folder


def collect_routes(manager, context: Context) -> list:
    """Call every ``arcade_routes``; a plugin whose hook raises fails like any broken plugin."""
    routes = []
    for impl in manager.hook.arcade_routes.get_hookimpls():
        try:
            routes.extend(impl.function(**_wanted(impl, {"context": context})))
        except Exception as error:
            manager.fail(impl.plugin_name, "building its routes failed", error)
    return routes


def collect_games(manager) -> dict[str, GameInfo]:
    """Call every ``arcade_register_games``. A plugin whose hook raises, or whose game's ``badge.py``
    cannot be imported, fails: it is left out, or start-up stops (``loader``). Two plugins registering
    one id is an error whatever else is wrong with them: only the owner knows which one to disable."""
    games: dict[str, GameInfo] = {}
    owners: dict[str, str] = {}
    for impl in manager.hook.arcade_register_games.get_hookimpls():
        plugin = impl.plugin_name
        try:
            registered = _registered(impl)
        except Exception as error:
            manager.fail(plugin, "registering its games failed", error)
            continue
        for game in registered:
            if game.id in owners:
                raise PluginError(
                    f"game id {game.id!r} is registered by both plugin {owners[game.id]} and plugin {plugin}; "
                    f"disable one of them in [plugins] disabled"
                )
            owners[game.id] = plugin
        try:
            for game in registered:
                _check_rules(game)
        except PluginError as error:
            manager.fail(plugin, "its games cannot be replayed", error)
            continue
        games.update((game.id, game) for game in registered)
    return games


def _registered(impl) -> list[GameInfo]:
    """The games one plugin registers, all registered before any is checked, as a plugin may
    register several and fail halfway."""
    registered: list = []
    impl.function(register=registered.append)
    for game in registered:
        if not isinstance(game, GameInfo):
            raise PluginError(f"it registered {game!r}, which is not a GameInfo")
    return registered


def _check_rules(game: GameInfo) -> None:
    """The server replays every run with the game's own rules, so a game without them cannot be served."""
    try:
        game.rules()
    except Exception as error:
        raise PluginError(
            f"game {game.id!r} has no rules to replay runs with: importing {game.package}.badge and its "
            f"Game class failed ({error!r}); docs/writing-a-game.md says what a game package holds"
        ) from error


def _check_tables(settings: Settings) -> None:
    """A ``[plugins.<name>]`` table for a plugin that is not installed is a typo, not a setting."""
    installed = loader.installed_names()
    unknown = sorted(set(settings.plugin_tables) - installed)
    if unknown:
        raise ConfigError(
            located(
                f"plugins.{unknown[0]}",
                f"no installed plugin is called {unknown[0]!r}, so nothing would read this table; "
                f"installed plugins: {', '.join(sorted(installed))}",
                settings.source,
                settings.origins,
            )
        )


async def _call(impl, **arguments) -> None:
    """Call one plugin's implementation of a hook, awaiting it if it is a coroutine function."""
    answer = impl.function(**_wanted(impl, arguments))
    if inspect.isawaitable(answer):
        await answer


def _wanted(impl, arguments: dict) -> dict:
    """The hook's arguments this implementation asks for (pluggy lets it ask for fewer)."""
    return {name: arguments[name] for name in impl.argnames}


def _answer(hook, kind: str, what: str, default: str, context: Context):
    """The object of the plugin chosen in ``[<kind>] plugin``; a name no plugin answers to says how to get one.

    The installed ones are listed by the ``NAME`` their module declares (the plugin's own name if none).
    """
    name, table = context.settings.selected(kind, default)
    answer = hook(name=name, settings=table, context=context)
    if answer is None:
        installed = ", ".join(
            sorted(repr(getattr(impl.plugin, "NAME", impl.plugin_name)) for impl in hook.get_hookimpls())
        )
        raise PluginError(
            f"{context.settings.source}: {kind}.plugin: no installed plugin provides the {what} {name!r}; "
            f"installed: {installed or 'none'}. A plugin is a Python distribution: install it with pip into the "
            "same environment as arcade (python -m pip install <distribution>, with the python that runs arcade); "
            f"then `arcade plugins` lists it and [{kind}] plugin can name it"
        )
    return answer
