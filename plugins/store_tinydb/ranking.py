"""An in-memory ranking of one game: each player's best score, kept sorted.

Reads (a page, a rank, the window around a player) are binary searches and
slices, so a leaderboard read never touches the database file.
"""

from bisect import bisect_left, insort
from datetime import datetime

from arcade.sdk.game import GameInfo


class Ranking:
    """Best score per player for one game.

    Entries are keyed ``(ordered, seq, player_id)``: ``ordered`` is smaller for
    better scores whatever the game's order, and ``seq`` is the acceptance order,
    so equal scores are ordered by who reached them first.
    """

    def __init__(self, game: GameInfo):
        self.game = game
        self._keys: list[tuple[int, int, str]] = []
        self._best: dict[str, tuple[tuple[int, int, str], int, datetime]] = {}

    @classmethod
    def of_bests(cls, game: GameInfo, bests) -> tuple["Ranking", list[tuple[str, int]]]:
        """A ranking of ``(player_id, score, seq, at)`` candidates for bests, sorted once.

        Answers it with the (player_id, seq) of the candidates that are not a best: a
        player can have several after two of their identities merged.
        """
        ranking, beaten = cls(game), []
        for player_id, score, seq, at in bests:
            key = (game.ordered(score), seq, player_id)
            previous = ranking._best.get(player_id)
            if previous is not None:
                if previous[0] < key:
                    beaten.append((player_id, seq))
                    continue
                beaten.append((player_id, previous[0][1]))
            ranking._best[player_id] = (key, score, at)
        ranking._keys = sorted(entry[0] for entry in ranking._best.values())
        return ranking, beaten

    def seq_of(self, player_id: str) -> int | None:
        """The acceptance sequence of the player's best, or None if they have no score."""
        entry = self._best.get(player_id)
        return None if entry is None else entry[0][1]

    def __len__(self) -> int:
        return len(self._keys)

    def offer(self, player_id: str, score: int, seq: int, at: datetime) -> bool:
        """Record a score; True when it is the player's new best: better, or as good and reached
        earlier (a restored score can come after a later one)."""
        key = (self.game.ordered(score), seq, player_id)
        previous = self._best.get(player_id)
        if previous is not None:
            if previous[0] <= key:
                return False
            del self._keys[bisect_left(self._keys, previous[0])]
        insort(self._keys, key)
        self._best[player_id] = (key, score, at)
        return True

    def best(self, player_id: str) -> tuple[int, int, datetime] | None:
        """The player's (best score, rank, when reached), or None if they have no score."""
        entry = self._best.get(player_id)
        if entry is None:
            return None
        key, score, at = entry
        return score, self._rank_of(key[0]), at

    def position(self, player_id: str) -> int | None:
        """The player's 0-based index in the sorted order."""
        entry = self._best.get(player_id)
        return None if entry is None else bisect_left(self._keys, entry[0])

    def index_after(self, ordered: int, seq: int) -> int:
        """The index of the first entry strictly after the key (ordered, seq)."""
        return bisect_left(self._keys, (ordered, seq + 1))

    def entries(self, start: int, limit: int) -> list[tuple[int, str, int, datetime, tuple[int, int]]]:
        """``limit`` entries from index ``start``: (rank, player_id, score, at, cursor key)."""
        rows = []
        start = max(start, 0)
        for index in range(start, min(start + limit, len(self._keys))):
            ordered, seq, player_id = self._keys[index]
            if rows and rows[-1][4][0] == ordered:
                rank = rows[-1][0]
            else:
                rank = self._rank_of(ordered)
            _, score, at = self._best[player_id]
            rows.append((rank, player_id, score, at, (ordered, seq)))
        return rows

    def _rank_of(self, ordered: int) -> int:
        """Competition ranking: one more than the number of strictly better bests."""
        return bisect_left(self._keys, (ordered,)) + 1


def encode_cursor(key: tuple[int, int]) -> str:
    """An opaque page cursor for the last entry's key (ordered score, seq)."""
    return f"{key[0]}~{key[1]}"


def decode_cursor(cursor: str) -> tuple[int, int]:
    """The key in a cursor from :func:`encode_cursor`; ValueError if it is not one."""
    ordered, _, seq = cursor.partition("~")
    return int(ordered), int(seq)
