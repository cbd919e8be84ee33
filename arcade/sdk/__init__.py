"""What a plugin may import: the hooks, the contracts of games, stores and identity providers,
the wire models, and small kits for settings, tokens, durable files and web handlers.

Nothing here imports the platform or the server, so a plugin built on it cannot reach into them.
"""
