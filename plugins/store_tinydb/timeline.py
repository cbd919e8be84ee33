"""Every stored score of each game in order of acceptance, as 32 bytes a score: what a window ranks.

Why: a time-window board is each player's best among the scores accepted in a range, which the
bests table cannot answer (it keeps one score a player). Memory holds no score documents (they are
in the ledger), so this keeps, per game, four arrays sorted by time of acceptance: the time in
microseconds, the seq, the score as submitted and the player (an index into one list of ids). A
window's scores are then a slice found by two binary searches. It is built on first use by reading
the ledger once, off the event loop, and kept up to date as scores arrive.
"""

from array import array
from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def microseconds(moment: datetime) -> int:
    """Exact, unlike a float timestamp."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def moment(microseconds: int) -> datetime:
    return EPOCH + timedelta(microseconds=microseconds)


class Timeline:
    """The scores of every game by time of acceptance."""

    def __init__(self):
        self._games: dict[str, tuple[array, array, array, array]] = {}
        self._ids: list[str] = []
        self._index: dict[str, int] = {}

    @classmethod
    def of(cls, scores) -> "Timeline":
        """A timeline of ``(game, player, score, seq, at)`` in any order, sorted once (blocking: run it off the loop)."""
        timeline, rows = cls(), {}
        for game, player, score, seq, at in scores:
            number = timeline._number(player)
            rows.setdefault(game, []).append((microseconds(at), seq, score, number))
        for game, entries in rows.items():
            entries.sort()
            times, seqs, scores_, players = zip(*entries)
            timeline._games[game] = (array("q", times), array("q", seqs), array("q", scores_), array("l", players))
        return timeline

    def _number(self, player: str) -> int:
        number = self._index.get(player)
        if number is None:
            number = self._index[player] = len(self._ids)
            self._ids.append(player)
        return number

    def add(self, game: str, player: str, score: int, seq: int, at: datetime) -> None:
        """Add a score; in place when it is not the latest (a restored one), else appended."""
        times, seqs, scores, players = self._games.setdefault(game, (array("q"), array("q"), array("q"), array("l")))
        number = self._number(player)
        when = microseconds(at)
        where = len(times) if not times or times[-1] <= when else bisect_right(times, when)
        for column, value in zip((times, seqs, scores, players), (when, seq, score, number)):
            column.insert(where, value)

    def between(self, game: str, start: datetime, end: datetime):
        """``(player id, score, seq, at)`` of the game's scores accepted in ``[start, end)``."""
        columns = self._games.get(game)
        if columns is None:
            return
        times, seqs, scores, players = columns
        low, high = bisect_left(times, microseconds(start)), bisect_left(times, microseconds(end))
        for index in range(low, high):
            yield self._ids[players[index]], scores[index], seqs[index], moment(times[index])

    def of_players(self, game: str, wanted: set[str]):
        """``(player id, score, seq, at)`` of every score of these players in the game (reads the game's arrays)."""
        numbers = {self._index[player] for player in wanted if player in self._index}
        columns = self._games.get(game)
        if columns is None:
            return
        times, seqs, scores, players = columns
        for index, number in enumerate(players):
            if number in numbers:
                yield self._ids[number], scores[index], seqs[index], moment(times[index])
