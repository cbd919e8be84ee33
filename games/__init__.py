"""The built-in games: one package per game, each a plugin of the ``arcade`` entry-point group."""
