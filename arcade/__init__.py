"""Badge Arcade: the platform core shared by the server, the CLI and the plugins.

``arcade.sdk`` is what plugins build on; ``arcade.platform`` assembles an arcade from
settings and plugins; ``arcade.scoring`` replays runs; ``arcade.badge`` builds, simulates
and deploys the firmware. The server, the built-in plugins, the games and the firmware
install beneath this package too (``arcade.server``, ``arcade.plugins``, ``arcade.games``,
``arcade.firmware``), from the repository's top-level folders of those names.
"""
