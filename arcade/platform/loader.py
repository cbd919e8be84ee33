"""Loading plugins from the ``arcade`` entry-point group, and describing what was loaded."""

import inspect

import pluggy

from arcade.sdk import hookspecs
from arcade.sdk.errors import PluginError

GROUP = "arcade"
HOOK_PREFIX = "arcade_"


class _PluginManager(pluggy.PluginManager):
    """Treats every ``arcade_*`` function as a hook implementation, marked or not.

    Like pytest with ``pytest_*``: a misspelled hook then fails at start-up
    (``check_pending``) instead of being silently ignored.
    """

    def parse_hookimpl_opts(self, plugin, name):
        options = super().parse_hookimpl_opts(plugin, name)
        if options is None and name.startswith(HOOK_PREFIX):
            method = getattr(plugin, name, None)
            if inspect.isroutine(method):
                options = {}
        return options


def load(disabled: list[str] | tuple[str, ...] = ()) -> pluggy.PluginManager:
    """A plugin manager with every installed ``arcade`` plugin except ``disabled`` ones."""
    manager = _PluginManager("arcade")
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
    try:
        manager.load_setuptools_entrypoints(GROUP)
    except Exception as error:
        raise PluginError(f"a plugin failed to load: {error!r}") from error
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(
            f"plugin {error.plugin.__name__ if hasattr(error.plugin, '__name__') else error.plugin!r}: "
            f"{error}; hooks are listed in arcade/hookspecs.py"
        ) from None
    return manager


def installed_names() -> set[str]:
    from importlib.metadata import entry_points

    return {entry_point.name for entry_point in entry_points(group=GROUP)}


def describe(manager: pluggy.PluginManager) -> list[dict]:
    """One row per loaded plugin: name, distribution, version and the hooks it implements."""
    distributions = {id(plugin): dist for plugin, dist in manager.list_plugin_distinfo()}
    rows = []
    for name, plugin in manager.list_name_plugin():
        if plugin is None:  # blocked
            continue
        dist = distributions.get(id(plugin))
        rows.append(
            {
                "name": name,
                "distribution": dist.project_name if dist else None,
                "version": dist.version if dist else None,
                "hooks": sorted(caller.name for caller in manager.get_hookcallers(plugin) or ()),
            }
        )
    return sorted(rows, key=lambda row: row["name"])
