"""The built-in server plugins, each registered through the ``arcade`` entry-point group."""
