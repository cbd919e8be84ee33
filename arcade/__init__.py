"""Badge Arcade: the platform core shared by the server, the CLI and the plugins."""
