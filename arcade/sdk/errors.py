"""The one base of the project's errors, and the errors of configuration and plugins."""


class ArcadeError(Exception):
    """An error the project raises on purpose: its message says what was wrong and what to do.

    The command line prints it without a traceback; the server maps each kind to an HTTP answer.
    """


class ConfigError(ArcadeError):
    """A setting is wrong; the message says where, which key, and what was expected."""


class PluginError(ArcadeError):
    """A plugin is broken or misconfigured: start-up stops with this message, or a broken
    third-party plugin is left out with it as a warning (unless ``[plugins] strict = true``)."""
