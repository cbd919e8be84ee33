"""Stores for tests: opened through the `arcade_store` hook as the server does, and test data.

A PostgreSQL store gets a schema of its own in the test database, made by the store on its first
start and dropped at the end, so tests in parallel workers never see each other's rows.
"""

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from arcade.platform import config, loader
from arcade.platform.assembly import Context
from arcade.sdk.game import GameInfo
from arcade.sdk.models import Player, Run, ScoreSubmission, player_id
from arcade.sdk.settings import PluginSettings

STORES = ["tinydb", "postgres"]
"""Every store plugin the contract suites run against."""
POSTGRES = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
"""The test database; missing it fails in CI and skips elsewhere."""
POINTS = GameInfo(id="points", title="Points", version="1", package="arcade.games.dino")
MOVES = GameInfo(id="moves", title="Moves", version="1", package="arcade.games.dino", order="lower", unit="moves")


def person(name: str, issuer: str = "https://id.test") -> Player:
    return Player(id=player_id(issuer, name), issuer=issuer, subject=name, name=name)


def submission(score: int, key: str) -> ScoreSubmission:
    return ScoreSubmission(score=score, run=Run(seed=1, inputs=[(0, 1), (5, 0)], ticks=9), submission_id=key)


async def new_schema() -> str:
    """The name of a schema no test uses, in a test database that answers."""
    try:
        connection = await asyncpg.connect(POSTGRES, timeout=10)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        message = f"PostgreSQL at {POSTGRES} cannot be reached ({error!r}); set TEST_POSTGRES_DSN"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    await connection.close()
    return f"test_{uuid.uuid4().hex[:16]}"


async def drop_schema(schema: str) -> None:
    connection = await asyncpg.connect(POSTGRES, timeout=10)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


def postgres_dsn(*, port: int | None = None, password: str | None = None) -> str:
    """The test database's DSN, through another loopback port or with a password."""
    parts = urlsplit(POSTGRES)
    user = parts.username + (f":{password}" if password else "")
    host = f"127.0.0.1:{port}" if port else f"{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def postgres_settings(schema: str, dsn: str = POSTGRES) -> str:
    """The settings file's tables that serve an arcade from ``schema`` of the test database."""
    return f'[store]\nplugin = "postgres"\n[store.postgres]\ndsn = "{dsn}"\nschema = "{schema}"\n'


class Stores:
    """Opens stores of one kind on one folder (or schema) through the plugin hook, as the server does."""

    def __init__(self, name: str, folder, schema: str | None = None):
        self.name, self.folder, self.schema = name, folder, schema
        self.manager = loader.load()
        self.opened = []

    async def open(self):
        settings = config.Settings()
        context = Context(settings=settings, data_dir=self.folder, public_url="http://test")
        table = {"dsn": POSTGRES, "schema": self.schema} if self.name == "postgres" else {}
        store = self.manager.hook.arcade_store(
            name=self.name, settings=PluginSettings(f"store.{self.name}", table), context=context
        )
        await store.start()
        self.opened.append(store)
        return store

    async def reopen(self, store):
        await store.close()
        self.opened.remove(store)
        return await self.open()


async def board(store, game=POINTS, limit=100):
    page = await store.leaderboard(game, limit)
    return [(entry.rank, entry.player.name, entry.score) for entry in page.entries]
