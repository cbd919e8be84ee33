"""Stores for tests: opened through the `arcade_store` hook as the server does, and test data."""

from arcade.platform import config, loader
from arcade.platform.assembly import Context
from arcade.sdk.game import GameInfo
from arcade.sdk.models import Player, Run, ScoreSubmission, player_id
from arcade.sdk.settings import PluginSettings

STORES = ["tinydb"]
"""Every store plugin the contract suites run against."""
POINTS = GameInfo(id="points", title="Points", version="1", package="arcade.games.dino")
MOVES = GameInfo(id="moves", title="Moves", version="1", package="arcade.games.dino", order="lower", unit="moves")


def person(name: str, issuer: str = "https://id.test") -> Player:
    return Player(id=player_id(issuer, name), issuer=issuer, subject=name, name=name)


def submission(score: int, key: str) -> ScoreSubmission:
    return ScoreSubmission(score=score, run=Run(seed=1, inputs=[(0, 1), (5, 0)], ticks=9), submission_id=key)


class Stores:
    """Opens stores of one kind on one folder through the plugin hook, as the server does."""

    def __init__(self, name: str, folder):
        self.name, self.folder = name, folder
        self.manager = loader.load()
        self.opened = []

    async def open(self):
        settings = config.Settings()
        context = Context(settings=settings, data_dir=self.folder, public_url="http://test")
        store = self.manager.hook.arcade_store(
            name=self.name, settings=PluginSettings(f"store.{self.name}"), context=context
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
