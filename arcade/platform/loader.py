"""Loading plugins from the ``arcade`` entry-point group, and describing what was loaded.

Entry points load one by one, so one broken third-party plugin is reported and left out
instead of taking the whole arcade down (``[plugins] strict = true`` stops instead).
"""

import inspect
import logging
from importlib.metadata import Distribution, entry_points

import pluggy

from arcade.sdk import hookspecs
from arcade.sdk.errors import ArcadeError, PluginError

GROUP = "arcade"
HOOK_PREFIX = "arcade_"
DISTRIBUTION = "badge-arcade"
"""The distribution of the arcade itself, whose plugins are the built-in ones."""

log = logging.getLogger("arcade.plugins")


class _PluginManager(pluggy.PluginManager):
    """Treats every ``arcade_*`` function as a hook implementation, marked or not, and leaves
    out the plugins that fail.

    Like pytest with ``pytest_*``: a misspelled hook then fails its plugin at start-up
    (``check_pending``) instead of being silently ignored.
    """

    def __init__(self, strict: bool):
        super().__init__("arcade")
        self.strict = strict
        self.distributions: dict[str, Distribution] = {}
        self.failures: dict[str, str] = {}

    def parse_hookimpl_opts(self, plugin, name):
        options = super().parse_hookimpl_opts(plugin, name)
        if options is None and name.startswith(HOOK_PREFIX):
            method = getattr(plugin, name, None)
            if inspect.isroutine(method):
                options = {}
        return options

    def fail(self, name: str, what: str, error: Exception) -> None:
        """The plugin ``name`` failed at ``what``: leave it out with a warning. A built-in plugin
        failing is a broken install, and strict mode wants every plugin working: both stop."""
        reason = f"{what}: {error if isinstance(error, ArcadeError) else f'{type(error).__name__}: {error}'}"
        dist = self.distributions.get(name)
        if dist is not None and dist.metadata["Name"] == DISTRIBUTION:
            raise PluginError(f"the built-in plugin {name} failed ({reason}); reinstall {DISTRIBUTION}") from error
        if self.strict:
            raise PluginError(
                f"plugin {name} failed ({reason}); fix or uninstall it, or add it to [plugins] disabled "
                f"in arcade.toml ([plugins] strict = true stops at a broken plugin)"
            ) from error
        log.warning(
            "plugin %s is left out: %s; add it to [plugins] disabled in arcade.toml to silence this", name, reason
        )
        self.failures[name] = reason
        self.set_blocked(name)


def load(disabled: list[str] | tuple[str, ...] = (), strict: bool = False) -> pluggy.PluginManager:
    """A plugin manager with every installed ``arcade`` plugin except ``disabled`` and broken ones."""
    manager = _PluginManager(strict)
    manager.add_hookspecs(hookspecs)
    installed = installed_names()
    unknown = sorted(set(disabled) - installed)
    if unknown:
        raise PluginError(
            f"plugins.disabled names {', '.join(map(repr, unknown))}, which is not an installed "
            f"plugin; installed plugins: {', '.join(sorted(installed))}"
        )
    for name in disabled:
        manager.set_blocked(name)
    for entry_point in entry_points(group=GROUP):
        manager.distributions.setdefault(entry_point.name, entry_point.dist)
        if manager.is_blocked(entry_point.name) or manager.has_plugin(entry_point.name):
            continue
        try:
            manager.register(entry_point.load(), name=entry_point.name)
            manager.check_pending()
        except pluggy.PluginValidationError as error:
            manager.fail(entry_point.name, "its hooks are not those of arcade/sdk/hookspecs.py", error)
        except Exception as error:
            manager.fail(entry_point.name, "loading it failed", error)
    return manager


def installed_names() -> set[str]:
    return {entry_point.name for entry_point in entry_points(group=GROUP)}


def describe(manager: pluggy.PluginManager) -> list[dict]:
    """One row per plugin: name, distribution, version, and the hooks it implements, or why it
    is not loaded (status ``failed`` with the reason, or ``disabled``)."""
    rows = []
    for name, plugin in manager.list_name_plugin():
        dist = manager.distributions.get(name)
        status = "loaded" if plugin is not None else "failed" if name in manager.failures else "disabled"
        rows.append(
            {
                "name": name,
                "distribution": dist.metadata["Name"] if dist else None,
                "version": dist.version if dist else None,
                "status": status,
                "reason": manager.failures.get(name),
                "hooks": sorted(caller.name for caller in manager.get_hookcallers(plugin) or ()) if plugin else [],
            }
        )
    return sorted(rows, key=lambda row: row["name"])
