"""The PostgreSQL store: every server process shares one database, through a pool of connections.

Why it is shaped so: no read scans all scores. Each player's best per game is kept in ``bests``,
in the same transaction as the score, and indexed by (game, ordered score, acceptance order): a
page of a leaderboard is a range of that index after a cursor (keyset, so scores landing in
between move no page). Triggers keep each game's number of players in ``boards`` and how many
players hold each best score in ``standings``: a rank is one plus the players of the better
scores, a sum over the scores better than it, never a count of every better player (a game's
bests take a few hundred scores, a board at an event 100,000 players). A submission is stored
once by the unique constraint on (player, submission_id): a retry racing the original waits on
it, then answers what the original answered.

While PostgreSQL cannot be reached, every call raises :class:`StoreUnavailable` (a 503 with
``Retry-After``); the pool connects again by itself once it answers.

Each accepted score is announced (NOTIFY, sent when its transaction commits) on the schema's
channel; every process listens there on a connection of its own, so its live pages show the
scores the others took (:class:`arcade.sdk.store.FollowsScores`).
"""

import asyncio
import hashlib
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import msgspec
from arcade.plugins.store_postgres import runs, schema

from arcade.sdk.game import GameInfo
from arcade.sdk.models import (
    LeaderboardEntry,
    LeaderboardPage,
    Player,
    PlayerBest,
    PlayerRef,
    ScoreAccepted,
    ScoreSubmission,
    player_id,
)
from arcade.sdk.store import (
    Adjudication,
    Archive,
    REFUSED_PER_PLAYER,
    REFUSED_TOTAL,
    EVENT_ACTIONS,
    BadCursor,
    Moderation,
    NotStored,
    PlayerBanned,
    Record,
    RefusedRun,
    Stored,
    StoredAudit,
    StoredCounter,
    StoredPlayer,
    StoredRecord,
    StoredScore,
    StoreError,
    StoreUnavailable,
    SubmissionConflict,
    adjudication_audit,
)

log = logging.getLogger("arcade.store")

CONNECT_TIMEOUT_S = 5
"""How long a connection attempt may take before PostgreSQL counts as unreachable."""
COMMAND_TIMEOUT_S = 30
"""How long one statement may take; the longest is a whole issuer's move."""
FOLLOW_CHECK_S = 10
"""How often a quiet listening connection is checked, so one that was lost silently is replaced."""
SWEEP_EVERY_S = 600
"""How often expired records and counters are deleted (reads skip them in between)."""
UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)
"""What a lost, refused, restarting or full server raises: worth retrying later."""
CANNOT_CONNECT = (*UNREACHABLE, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError)
"""What connecting raises, a wrong address, user, database or DSN included."""
FIRST = (-(2**63), -(2**63))
"""A key before every entry: pages start here."""
CURSOR = re.compile(r"(-?[0-9]{1,19})~([0-9]{1,19})")

SAVE_PLAYER = """
    INSERT INTO players AS p (id, issuer, subject, name, picture) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (id) DO UPDATE
        SET name = CASE WHEN p.name_locked THEN p.name ELSE EXCLUDED.name END,
            picture = CASE WHEN p.picture_locked THEN p.picture ELSE EXCLUDED.picture END
    WHERE (p.name, p.picture) IS DISTINCT FROM (
        CASE WHEN p.name_locked THEN p.name ELSE EXCLUDED.name END,
        CASE WHEN p.picture_locked THEN p.picture ELSE EXCLUDED.picture END
    )
"""
SHOWN_AS = "SELECT id, name, picture, banned FROM players WHERE id = $1 FOR UPDATE"
"""How the player is shown, and whether banned: locked against a ban in the same moment."""
ADD_SCORE = """
    INSERT INTO scores (player, submission_id, game, score, ordered, run) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (player, submission_id) DO NOTHING
    RETURNING seq
"""
OFFER_BEST = """
    INSERT INTO bests AS b (game, player, ordered, seq, score, at)
    SELECT game, player, ordered, seq, score, at FROM scores WHERE seq = $1
    ON CONFLICT (game, player) DO UPDATE
        SET ordered = EXCLUDED.ordered, seq = EXCLUDED.seq, score = EXCLUDED.score, at = EXCLUDED.at
        WHERE b.ordered > EXCLUDED.ordered
    RETURNING true
"""
RANK = """
    1 + (SELECT coalesce(sum(players), 0)::bigint FROM standings AS o WHERE o.game = b.game AND o.ordered < b.ordered)
"""
"""The rank of the best ``b``: one plus the players of the better scores."""
ANSWER = f"""
    UPDATE scores AS s
    SET best = b.score, new_best = $2, rank = {RANK}, players = (SELECT players FROM boards WHERE game = s.game)
    FROM bests AS b
    WHERE s.seq = $1 AND b.game = s.game AND b.player = s.player
    RETURNING s.game, s.score, s.best, s.rank, s.players, s.new_best, s.at
"""
STORED_ANSWER = """
    SELECT game, coalesce(claimed, score) AS score, best, rank, new_best, at,
           coalesce(players, greatest(rank, (SELECT players FROM boards AS b WHERE b.game = s.game))) AS players
    FROM scores AS s
    WHERE player = $1 AND submission_id = $2
"""
"""A score answered before answers held the board's size says the board's size now (at least its rank)."""
PAGE = """
    SELECT b.player, b.score, b.at, b.ordered, b.seq, p.name, p.picture
    FROM bests AS b JOIN players AS p ON p.id = b.player
    WHERE b.game = $1 AND (b.ordered, b.seq) {after} ($2, $3)
    ORDER BY b.ordered, b.seq
    LIMIT $4
"""
PAGE_FROM, PAGE_AFTER = PAGE.format(after=">="), PAGE.format(after=">")
BEFORE = """
    SELECT (SELECT players FROM boards WHERE game = $1) AS players, better,
           (SELECT through FROM adjudications WHERE game = $1) AS through,
           better + (SELECT count(*) FROM bests WHERE game = $1 AND ordered = $2 AND seq < $3) AS before
    FROM (SELECT coalesce(sum(players), 0)::bigint AS better FROM standings WHERE game = $1 AND ordered < $2) AS s
"""
AROUND_START = """
    SELECT ordered, seq FROM (
        SELECT ordered, seq FROM bests WHERE game = $1 AND (ordered, seq) < ($2, $3)
        ORDER BY ordered DESC, seq DESC LIMIT $4
    ) AS before
    ORDER BY ordered, seq LIMIT 1
"""
BESTS = f"""
    SELECT b.game, b.score, b.at, {RANK} AS rank
    FROM bests AS b WHERE b.player = $1 AND b.game = ANY($2::text[])
"""

# move_issuer, on the arrays $1 (old ids) and $2 (the new ids they move to), in this order.
MOVE_PLAYERS = """
    INSERT INTO players (id, issuer, subject, name, picture)
    SELECT m.new, $3, p.subject, p.name, p.picture
    FROM unnest($1::text[], $2::text[]) AS m (old, new) JOIN players AS p ON p.id = m.old
    ON CONFLICT (id) DO NOTHING
"""
DROP_SECOND_COPIES = """
    DELETE FROM scores AS d
    USING unnest($1::text[], $2::text[]) AS m (old, new), scores AS s, scores AS t
    WHERE s.player = m.old AND t.player = m.new AND t.submission_id = s.submission_id
      AND (t.game, t.score) = (s.game, s.score) AND d.seq = greatest(s.seq, t.seq)
"""
MOVE_SCORES = """
    UPDATE scores AS s
    SET player = m.new,
        submission_id = CASE
            WHEN EXISTS (SELECT FROM scores AS t WHERE t.player = m.new AND t.submission_id = s.submission_id)
            THEN s.submission_id || '~' || m.old
            ELSE s.submission_id END
    FROM unnest($1::text[], $2::text[]) AS m (old, new)
    WHERE s.player = m.old
"""
RANK_IN_GAME = """
    INSERT INTO bests (game, player, ordered, seq, score, at)
    SELECT game, player, ordered, seq, score, at FROM scores
    WHERE player = $1 AND game = $2 AND NOT hidden ORDER BY ordered, seq LIMIT 1
"""
"""A player's best in a game again, from the scores that are not hidden (after its best was removed)."""
DROP_BESTS = "DELETE FROM bests WHERE player = ANY($1::text[]) OR player = ANY($2::text[])"
RANK_AGAIN = """
    INSERT INTO bests (game, player, ordered, seq, score, at)
    SELECT DISTINCT ON (player, game) game, player, ordered, seq, score, at
    FROM scores WHERE player = ANY($1::text[]) AND verdict IS DISTINCT FROM 'void' AND NOT hidden
    ORDER BY player, game, ordered, seq
"""

# time windows: each player's best of the window's scores (a range of scores_by_time), ranked.
WINDOW = """
    WITH window_bests AS (
        SELECT DISTINCT ON (player) player, ordered, seq, score, at FROM scores
        WHERE game = $1 AND at >= $2 AND at < $3 AND verdict IS DISTINCT FROM 'void' AND NOT hidden
            AND NOT EXISTS (SELECT FROM players AS banned WHERE banned.id = player AND banned.banned IS NOT NULL)
        ORDER BY player, ordered, seq
    ), ranked AS (
        SELECT *, rank() OVER (ORDER BY ordered) AS rank, row_number() OVER (ORDER BY ordered, seq) AS position,
               count(*) OVER () AS players
        FROM window_bests
    )
    SELECT r.*, p.name, p.picture, (SELECT through FROM adjudications WHERE game = $1) AS through
    FROM ranked AS r JOIN players AS p ON p.id = r.player
"""
WINDOW_PAGE = WINDOW + "WHERE (r.ordered, r.seq) > ($4, $5) ORDER BY r.ordered, r.seq LIMIT $6"
WINDOW_AROUND = (
    WINDOW
    + """WHERE r.position >= (SELECT position - $5 FROM ranked WHERE player = $4) ORDER BY r.ordered, r.seq LIMIT $6"""
)
WINDOW_PLAYERS = """
    SELECT count(DISTINCT player) FROM scores
    WHERE game = $1 AND at >= $2 AND at < $3 AND verdict IS DISTINCT FROM 'void' AND NOT hidden
        AND NOT EXISTS (SELECT FROM players AS banned WHERE banned.id = player AND banned.banned IS NOT NULL)
"""

# re-adjudication, in one transaction with the score tables locked against writes (reads go on)
ARCHIVE = "INSERT INTO archives (game, version, at, players) VALUES ($1, $2, $3, $4) RETURNING id"
ARCHIVE_ENTRIES = """
    INSERT INTO archived_entries (archive, position, rank, player, name, picture, score, at, verification)
    SELECT $2, row_number() OVER (ORDER BY b.ordered, b.seq), rank() OVER (ORDER BY b.ordered), b.player, p.name,
           p.picture, b.score, b.at,
           CASE WHEN b.seq = ANY($3::bigint[]) THEN 'no_longer_verifies'
                WHEN b.seq <= $4 THEN 'readjudicated' ELSE 'verified' END
    FROM bests AS b JOIN players AS p ON p.id = b.player
    WHERE b.game = $1
"""
APPLY_VERDICTS = """
    UPDATE scores AS s
    SET claimed = coalesce(s.claimed, s.score),
        score = coalesce(c.value, coalesce(s.claimed, s.score)),
        ordered = coalesce(c.ordered, s.ordered),
        verdict = CASE WHEN c.value IS NULL THEN 'void' WHEN c.value = coalesce(s.claimed, s.score) THEN NULL
                  ELSE 'moved' END
    FROM unnest($2::bigint[], $3::bigint[], $4::bigint[]) AS c (seq, value, ordered)
    WHERE s.seq = c.seq AND s.game = $1
    RETURNING s.player
"""
RANK_PLAYERS_AGAIN = """
    INSERT INTO bests (game, player, ordered, seq, score, at)
    SELECT DISTINCT ON (player) game, player, ordered, seq, score, at
    FROM scores WHERE game = $1 AND player = ANY($2::text[]) AND verdict IS DISTINCT FROM 'void'
    ORDER BY player, ordered, seq
"""
ADJUDICATED = """
    INSERT INTO adjudications AS a (game, version, through, at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (game) DO UPDATE
        SET version = EXCLUDED.version, through = greatest(a.through, EXCLUDED.through), at = EXCLUDED.at
"""
CHANGED = """
    SELECT seq, CASE WHEN verdict = 'void' THEN NULL ELSE score END AS value FROM scores
    WHERE game = $1 AND verdict IS NOT NULL
"""
ARCHIVED_PAGE = """
    SELECT rank, player, name, picture, score, at, verification FROM archived_entries
    WHERE archive = $1 AND position > $2 ORDER BY position LIMIT $3
"""

LIVE = "(expires_at IS NULL OR expires_at > $3)"
GET_RECORD = f"SELECT value, version, expires_at FROM records WHERE kind = $1 AND key = $2 AND {LIVE}"
CREATE_RECORD = """
    INSERT INTO records AS r (kind, key, value, version, expires_at)
    VALUES ($1, $2, $4, nextval('record_versions'), $5)
    ON CONFLICT (kind, key) DO UPDATE
        SET value = EXCLUDED.value, version = EXCLUDED.version, expires_at = EXCLUDED.expires_at
        WHERE r.expires_at <= $3
    RETURNING version
"""
CREATE_EXPIRED = f"""
    SELECT nextval('record_versions') WHERE NOT EXISTS (
        SELECT FROM records WHERE kind = $1 AND key = $2 AND {LIVE}
    )
"""
REPLACE_RECORD = f"""
    UPDATE records SET value = $4, version = nextval('record_versions'), expires_at = $5
    WHERE kind = $1 AND key = $2 AND version = $6 AND {LIVE}
    RETURNING version
"""
DELETE_RECORD = f"""
    DELETE FROM records WHERE kind = $1 AND key = $2 AND version = $4 AND {LIVE}
    RETURNING nextval('record_versions')
"""
COUNT = "SELECT coalesce(sum(amount), 0)::bigint FROM counters WHERE key = $1 AND second BETWEEN $2 AND $3"
ADD = """
    INSERT INTO counters AS c (key, second, amount, expires_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (key, second) DO UPDATE SET amount = c.amount + EXCLUDED.amount
"""

# export and restore: rows in code point order (COLLATE "C"), whatever the database's collation.
PLAYER_COLUMNS = "id, issuer, subject, name, picture, banned, name_locked, picture_locked"
EXPORT_PLAYERS = f'SELECT {PLAYER_COLUMNS} FROM players ORDER BY id COLLATE "C"'
EXPORT_SCORES = """
    SELECT game, player, submission_id, coalesce(claimed, score) AS score, run, seq, at, best, rank, new_best, hidden,
        players
    FROM scores ORDER BY seq
"""
AUDIT_COLUMNS = "seq, at, action, player, actor, reason, submission_id, game, value, before"
EXPORT_AUDIT = f"SELECT {AUDIT_COLUMNS} FROM audit ORDER BY seq"
EXPORT_RECORDS = """
    SELECT kind, key, value, version, expires_at FROM records WHERE expires_at IS NULL OR expires_at > $1
    ORDER BY kind COLLATE "C", key COLLATE "C"
"""
EXPORT_COUNTERS = """
    SELECT key, second, amount, expires_at FROM counters WHERE expires_at > $1 ORDER BY key COLLATE "C", second
"""
RESTORE_PLAYERS = f"""
    INSERT INTO players AS p ({PLAYER_COLUMNS})
    SELECT * FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::boolean[]
    )
    ON CONFLICT (id) DO UPDATE
        SET issuer = EXCLUDED.issuer, subject = EXCLUDED.subject, name = EXCLUDED.name, picture = EXCLUDED.picture,
            banned = EXCLUDED.banned, name_locked = EXCLUDED.name_locked, picture_locked = EXCLUDED.picture_locked
"""
RESTORE_AUDIT = f"""
    INSERT INTO audit ({AUDIT_COLUMNS})
    SELECT * FROM unnest(
        $1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
        $9::text[], $10::text[]
    )
    ON CONFLICT (seq) DO NOTHING
"""
RESTORE_SCORES = """
    WITH added AS (
        INSERT INTO scores (seq, player, submission_id, game, score, ordered, at, run, best, rank, new_best, hidden,
            players)
        OVERRIDING SYSTEM VALUE
        SELECT * FROM unnest(
            $1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::timestamptz[],
            $8::bytea[], $9::bigint[], $10::bigint[], $11::boolean[], $12::boolean[], $13::bigint[]
        )
        ON CONFLICT (player, submission_id) DO NOTHING
        RETURNING game, player, ordered, seq, score, at, hidden
    )
    INSERT INTO bests AS b (game, player, ordered, seq, score, at)
    SELECT DISTINCT ON (game, player) game, player, ordered, seq, score, at FROM added
    WHERE NOT hidden AND player NOT IN (SELECT id FROM players WHERE banned IS NOT NULL)
    ORDER BY game, player, ordered, seq
    ON CONFLICT (game, player) DO UPDATE
        SET ordered = EXCLUDED.ordered, seq = EXCLUDED.seq, score = EXCLUDED.score, at = EXCLUDED.at
        WHERE (b.ordered, b.seq) > (EXCLUDED.ordered, EXCLUDED.seq)
"""
RESTORE_RECORDS = """
    INSERT INTO records AS r (kind, key, value, version, expires_at)
    SELECT kind, key, value::jsonb, version, expires_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::float8[])
        AS given (kind, key, value, version, expires_at)
    ON CONFLICT (kind, key) DO UPDATE
        SET value = EXCLUDED.value, version = EXCLUDED.version, expires_at = EXCLUDED.expires_at
"""
RESTORE_COUNTERS = """
    INSERT INTO counters (key, second, amount, expires_at)
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
"""


class Heard(msgspec.Struct):
    """A score announced on the schema's channel, and which store instance took it."""

    origin: str
    score: ScoreAccepted


class PostgresStore:
    shareable = True

    def __init__(self, dsn: str | None, schema_name: str, pool_size: int):
        self.dsn = dsn
        self.schema = schema_name
        self.pool_size = pool_size
        self.where = _where(dsn)
        self.channel = "arcade_scores_" + hashlib.blake2b(schema_name.encode(), digest_size=8).hexdigest()
        """One per schema (a database may hold several arcades), and short: a channel name has 63 bytes."""
        self._origin = secrets.token_hex(8)
        self._pool: asyncpg.Pool | None = None
        self._sweeper: asyncio.Task | None = None
        self._follower: asyncio.Task | None = None

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, bring the schema up to date, and delete what expired."""
        self._pool = await asyncpg.create_pool(
            self.dsn,
            min_size=0,  # connections are made as requests need them, and again after an outage
            max_size=self.pool_size,
            timeout=CONNECT_TIMEOUT_S,
            command_timeout=COMMAND_TIMEOUT_S,
            server_settings={"search_path": self.schema, "application_name": "badge-arcade"},
            init=_prepare,
        )
        try:
            async with self._pool.acquire() as connection:
                await self._make_current(connection)
                await _delete_expired(connection)
        except CANNOT_CONNECT as error:
            self._pool.terminate()
            raise self._unreachable_at_start(error) from None
        except BaseException:
            self._pool.terminate()
            raise
        self._sweeper = asyncio.create_task(self._sweep())

    async def upgrade(self) -> tuple[int, int]:
        """Bring the schema up to this version's without serving (``arcade db upgrade``): the
        version before and after."""
        try:
            connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_S)
        except CANNOT_CONNECT as error:
            raise self._unreachable_at_start(error) from None
        try:
            return await self._make_current(connection)
        finally:
            await connection.close()

    async def _make_current(self, connection) -> tuple[int, int]:
        try:
            return await schema.upgrade(connection, self.schema)
        except asyncpg.PostgresError as error:
            raise StoreError(
                f"cannot bring the PostgreSQL schema {self.schema!r} at {self.where} up to date: {_describe(error)}. "
                "The user needs the right to create the schema and its tables: CREATE on the database, or a "
                "schema made for it beforehand"
            ) from None

    async def close(self) -> None:
        """Every write was committed before it was answered: only the connections are left to close,
        within a bound, as a server that stopped answering would hold a graceful close forever."""
        for task in (self._sweeper, self._follower):
            if task is not None:
                task.cancel()
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), COMMAND_TIMEOUT_S)
            except TimeoutError:
                self._pool.terminate()

    def _unreachable_at_start(self, error: Exception) -> StoreError:
        return StoreError(
            f"cannot connect to PostgreSQL at {self.where}: {_describe(error)}. Check that PostgreSQL is "
            "running and accepts TCP connections there (pg_isready -h HOST -p PORT), that the database and the "
            "user exist, and the password (PGPASSWORD or ~/.pgpass); [store.postgres] dsn says where to connect"
        )

    @asynccontextmanager
    async def _connection(self):
        """A connection of the pool; PostgreSQL unreachable on the way is :class:`StoreUnavailable`."""
        try:
            async with self._pool.acquire(timeout=COMMAND_TIMEOUT_S) as connection:
                yield connection
        except UNREACHABLE as error:
            raise StoreUnavailable(
                f"PostgreSQL at {self.where} cannot be reached ({_describe(error)}); the arcade connects again "
                "by itself once it answers: retry with the same request"
            ) from error

    @asynccontextmanager
    async def _transaction(self, **options):
        async with self._connection() as connection, connection.transaction(**options):
            yield connection

    def _snapshot(self):
        """Reads that must agree with each other (a page and its ranks)."""
        return self._transaction(isolation="repeatable_read", readonly=True)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                async with self._connection() as connection:
                    await _delete_expired(connection)
            except StoreUnavailable as error:
                log.warning("could not delete expired records: %s", error)

    # -- scores -----------------------------------------------------------------------------

    async def submit_score(
        self, game: GameInfo, player: Player, submission: ScoreSubmission
    ) -> tuple[ScoreAccepted, bool]:
        async with self._transaction() as connection:
            await connection.execute(SAVE_PLAYER, player.id, player.issuer, player.subject, player.name, player.picture)
            shown = await connection.fetchrow(SHOWN_AS, player.id)
            if shown["banned"] is not None:
                raise PlayerBanned(shown["banned"])
            seq = await connection.fetchval(
                ADD_SCORE,
                player.id,
                submission.submission_id,
                game.id,
                submission.score,
                game.ordered(submission.score),
                runs.pack(submission.run),
            )
            if seq is None:  # stored before, perhaps by a retry that this one waited for
                stored = await connection.fetchrow(STORED_ANSWER, player.id, submission.submission_id)
            else:
                new_best = await connection.fetchval(OFFER_BEST, seq) is not None
                stored = await connection.fetchrow(ANSWER, seq, new_best)
            answer = ScoreAccepted(
                game=stored["game"],
                submission_id=submission.submission_id,
                player=PlayerRef(id=shown["id"], name=shown["name"], picture=shown["picture"]),
                score=stored["score"],
                best=stored["best"],
                rank=stored["rank"],
                players=stored["players"],
                new_best=stored["new_best"],
                at=stored["at"],
            )
            if seq is not None:  # under 3 KB (a name of 64 characters, a picture URL of 2,000): NOTIFY takes 8,000
                heard = msgspec.json.encode(Heard(self._origin, answer)).decode()
                await connection.execute("SELECT pg_notify($1, $2)", self.channel, heard)
        if seq is None and (stored["game"], stored["score"]) != (game.id, submission.score):
            raise SubmissionConflict(
                f"submission_id {submission.submission_id!r} was already used for a score of "
                f"{stored['score']} in {stored['game']}; use a new submission_id for a new run"
            )
        return answer, seq is not None

    async def leaderboard(self, game: GameInfo, limit: int, cursor: str | None = None) -> LeaderboardPage:
        after = _decode_cursor(cursor) if cursor else None
        async with self._snapshot() as connection:
            if after is None:
                return await self._page(connection, game, PAGE_FROM, FIRST, limit)
            return await self._page(connection, game, PAGE_AFTER, after, limit)

    async def around(self, game: GameInfo, player_id: str, limit: int) -> LeaderboardPage:
        async with self._snapshot() as connection:
            key = await connection.fetchrow(
                "SELECT ordered, seq FROM bests WHERE game = $1 AND player = $2", game.id, player_id
            )
            if key is None:
                return await self._page(connection, game, PAGE_FROM, FIRST, 0)
            start = await connection.fetchrow(AROUND_START, game.id, *key, (limit - 1) // 2) or key
            return await self._page(connection, game, PAGE_FROM, tuple(start), limit)

    async def _page(self, connection, game: GameInfo, query: str, key: tuple[int, int], limit: int) -> LeaderboardPage:
        """``limit`` entries from ``key`` on, ranked: competition ranking counts the strictly better
        bests before the first entry; after it, a new score's rank is its position."""
        rows = await connection.fetch(query, game.id, *key, limit + 1) if limit else []
        first = (rows[0]["ordered"], rows[0]["seq"]) if rows else (None, None)
        counts = await connection.fetchrow(BEFORE, game.id, *first)
        entries, rank = [], 0
        for index, row in enumerate(rows[:limit]):
            if index == 0:
                rank = counts["better"] + 1
            elif row["ordered"] != rows[index - 1]["ordered"]:
                rank = counts["before"] + index + 1
            player = PlayerRef(id=row["player"], name=row["name"], picture=row["picture"])
            verification = "readjudicated" if row["seq"] <= (counts["through"] or 0) else "verified"
            entries.append(
                LeaderboardEntry(rank=rank, player=player, score=row["score"], at=row["at"], verification=verification)
            )
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = f"{last['ordered']}~{last['seq']}"
        return LeaderboardPage(game=game.id, players=counts["players"] or 0, entries=entries, next_cursor=next_cursor)

    async def player(self, player_id: str) -> Player | None:
        async with self._connection() as connection:
            row = await connection.fetchrow(f"SELECT {PLAYER_COLUMNS} FROM players WHERE id = $1", player_id)
        return None if row is None else Player(**row)

    async def player_bests(self, player_id: str, games: list[GameInfo]) -> list[PlayerBest]:
        async with self._connection() as connection:
            rows = await connection.fetch(BESTS, player_id, [game.id for game in games])
        found = {row["game"]: PlayerBest(**row) for row in rows}
        return [found[game.id] for game in games if game.id in found]

    async def issuers(self) -> list[str]:
        async with self._connection() as connection:
            return [row["issuer"] for row in await connection.fetch("SELECT DISTINCT issuer FROM players")]

    async def move_issuer(self, old: str, new: str) -> int:
        """One transaction: a crash leaves everything of ``old`` in place for the next call. The tables
        are locked against writes meanwhile (reads go on), so no score lands halfway."""
        if old == new:
            return 0
        async with self._transaction() as connection:
            if not await connection.fetchval("SELECT EXISTS (SELECT FROM players WHERE issuer = $1)", old):
                return 0
            await connection.execute("LOCK TABLE players, scores, bests IN SHARE ROW EXCLUSIVE MODE")
            movers = await connection.fetch("SELECT id, subject FROM players WHERE issuer = $1", old)
            olds = [row["id"] for row in movers]
            news = [player_id(new, row["subject"]) for row in movers]
            await connection.execute(MOVE_PLAYERS, olds, news, new)
            await connection.execute(DROP_SECOND_COPIES, olds, news)
            await connection.execute(MOVE_SCORES, olds, news)
            await connection.execute(DROP_BESTS, olds, news)
            await connection.execute(RANK_AGAIN, news)
            await connection.execute("DELETE FROM players WHERE id = ANY($1::text[])", olds)
        return len(movers)

    # -- moderation and players' own data ---------------------------------------------------

    async def moderate(self, change: Moderation, games: list[GameInfo]) -> StoredAudit:
        """One transaction, holding the player's row: a submission of theirs waits for it (``SHOWN_AS``)."""
        async with self._transaction() as connection:
            player = await connection.fetchrow(
                f"SELECT {PLAYER_COLUMNS} FROM players WHERE id = $1 FOR UPDATE", change.player
            )
            if player is None and change.action not in EVENT_ACTIONS:
                raise NotStored(f"no player {change.player!r} in this arcade")
            game, before = None, None
            if change.action in EVENT_ACTIONS:
                before = change.before
            elif change.action in ("hide", "unhide"):
                game = await connection.fetchval(
                    "UPDATE scores SET hidden = $3 WHERE player = $1 AND submission_id = $2 RETURNING game",
                    change.player,
                    change.submission_id,
                    change.action == "hide",
                )
                if game is None:
                    raise NotStored(f"player {change.player!r} has no score {change.submission_id!r}")
                if player["banned"] is None:
                    await connection.execute("DELETE FROM bests WHERE game = $1 AND player = $2", game, change.player)
                    await connection.execute(RANK_IN_GAME, change.player, game)
            elif change.action in ("ban", "unban"):
                before = player["banned"]
                banned = change.reason if change.action == "ban" else None
                await connection.execute("UPDATE players SET banned = $2 WHERE id = $1", change.player, banned)
                if change.action == "ban":
                    await connection.execute("DELETE FROM bests WHERE player = $1", change.player)
                elif before is not None:
                    await connection.execute(RANK_AGAIN, [change.player])
            elif change.action == "rename":
                before = player["name"]
                await connection.execute(
                    "UPDATE players SET name = $2, name_locked = true WHERE id = $1",
                    change.player,
                    change.value or player["name"],
                )
            else:
                before = player["picture"]
                await connection.execute(
                    "UPDATE players SET picture = $2, picture_locked = true WHERE id = $1", change.player, change.value
                )
            return await _insert_audit(connection, change, game, before)

    async def audit_log(self, limit: int, before: int | None = None) -> list[StoredAudit]:
        async with self._connection() as connection:
            rows = await connection.fetch(
                f"SELECT {AUDIT_COLUMNS} FROM audit WHERE $2::bigint IS NULL OR seq < $2 ORDER BY seq DESC LIMIT $1",
                limit,
                before,
            )
        return [StoredAudit(**row) for row in rows]

    async def scores_of(self, player_id: str, limit: int) -> list[StoredScore]:
        async with self._connection() as connection:
            rows = await connection.fetch(
                """SELECT game, player, submission_id, score, run, seq, at, best, rank, new_best, hidden, players
                FROM scores WHERE player = $1 ORDER BY seq DESC LIMIT $2""",
                player_id,
                limit,
            )
        return [StoredScore(**{**row, "run": runs.unpack(row["run"])}) for row in rows]

    async def delete_player(self, player_id: str) -> bool:
        """One transaction; PostgreSQL reclaims the rows' space at its next (auto)vacuum."""
        async with self._transaction() as connection:
            if await connection.fetchval("SELECT id FROM players WHERE id = $1 FOR UPDATE", player_id) is None:
                return False
            await connection.execute("DELETE FROM bests WHERE player = $1", player_id)
            await connection.execute("DELETE FROM scores WHERE player = $1", player_id)
            await connection.execute("DELETE FROM refused_runs WHERE player = $1", player_id)
            await connection.execute("UPDATE audit SET before = NULL, value = NULL WHERE player = $1", player_id)
            await connection.execute("DELETE FROM players WHERE id = $1", player_id)
        return True

    async def keep_refused_run(self, run: RefusedRun) -> None:
        async with self._transaction() as connection:
            await connection.execute("SELECT pg_advisory_xact_lock(hashtext('refused runs ' || $1))", self.schema)
            await connection.execute(
                "INSERT INTO refused_runs (player, run) VALUES ($1, $2)", run.player, msgspec.to_builtins(run)
            )
            await connection.execute(
                """DELETE FROM refused_runs WHERE player = $1 AND seq < ALL (
                    SELECT seq FROM refused_runs WHERE player = $1 ORDER BY seq DESC LIMIT $2)""",
                run.player,
                REFUSED_PER_PLAYER,
            )
            await connection.execute(
                "DELETE FROM refused_runs WHERE seq < ALL (SELECT seq FROM refused_runs ORDER BY seq DESC LIMIT $1)",
                REFUSED_TOTAL,
            )

    async def refused_runs(self, limit: int) -> list[RefusedRun]:
        async with self._connection() as connection:
            rows = await connection.fetch("SELECT run FROM refused_runs ORDER BY seq DESC LIMIT $1", limit)
        return [msgspec.convert(row["run"], RefusedRun) for row in rows]

    # -- moving an event --------------------------------------------------------------------

    async def export(self):
        """One read-only snapshot (repeatable read) while serving goes on, read through cursors."""
        now = time.time()
        async with self._snapshot() as connection:
            async for row in connection.cursor(EXPORT_PLAYERS, prefetch=1000):
                yield StoredPlayer(**row)
            async for row in connection.cursor(EXPORT_SCORES, prefetch=1000):
                yield StoredScore(**{**row, "run": runs.unpack(row["run"])})
            async for row in connection.cursor(EXPORT_RECORDS, now, prefetch=1000):
                yield StoredRecord(**row)
            counter = None
            async for row in connection.cursor(EXPORT_COUNTERS, int(now), prefetch=1000):
                if counter is None or counter.key != row["key"]:
                    if counter is not None:
                        yield counter
                    counter = StoredCounter(key=row["key"], window=row["expires_at"] - row["second"] - 1, buckets=[])
                counter.buckets.append((row["second"], row["amount"]))
            if counter is not None:
                yield counter
            async for row in connection.cursor(EXPORT_AUDIT, prefetch=1000):
                yield StoredAudit(**row)

    async def restore(self, items: list[Stored], games: list[GameInfo]) -> None:
        """One transaction; the sequences of scores and of record versions move past what was restored."""
        known = {game.id: game for game in games}
        now = time.time()
        players = [item for item in items if isinstance(item, StoredPlayer)]
        scores = [item for item in items if isinstance(item, StoredScore)]
        records = [
            item
            for item in items
            if isinstance(item, StoredRecord) and (item.expires_at is None or item.expires_at > now)
        ]
        counters = [item for item in items if isinstance(item, StoredCounter)]
        audit = [item for item in items if isinstance(item, StoredAudit)]
        unknown = {item.game for item in scores} - set(known)
        if unknown:
            raise StoreError(f"a score of {min(unknown)!r}, which is not one of the games given")
        buckets = [
            (item.key, second, amount, second + item.window + 1)
            for item in counters
            for second, amount in item.buckets
            if second + item.window + 1 > now
        ]
        async with self._transaction() as connection:
            if players:
                await connection.execute(RESTORE_PLAYERS, *_columns(players, *PLAYER_COLUMNS.split(", ")))
            if scores:
                try:
                    await connection.execute(
                        RESTORE_SCORES,
                        *_columns(scores, "seq", "player", "submission_id", "game", "score"),
                        [known[item.game].ordered(item.score) for item in scores],
                        [item.at for item in scores],
                        [runs.pack(item.run) for item in scores],
                        *_columns(scores, "best", "rank", "new_best", "hidden", "players"),
                    )
                except asyncpg.UniqueViolationError as error:  # another score has its seq
                    raise StoreError(
                        f"the store holds other scores than those restored ({error.detail}): restore into an "
                        "empty store"
                    ) from None
                await connection.execute("SELECT setval(pg_get_serial_sequence('scores', 'seq'), max(seq)) FROM scores")
            if records:
                await connection.execute(
                    RESTORE_RECORDS,
                    *_columns(records, "kind", "key"),
                    [msgspec.json.encode(item.value).decode() for item in records],
                    *_columns(records, "version", "expires_at"),
                )
                await connection.execute(
                    "SELECT setval('record_versions', greatest(last_value, $1)) FROM record_versions",
                    max(item.version for item in records),
                )
            if audit:
                await connection.execute(RESTORE_AUDIT, *_columns(audit, *AUDIT_COLUMNS.split(", ")))
                await connection.execute("SELECT setval(pg_get_serial_sequence('audit', 'seq'), max(seq)) FROM audit")
            if counters:
                await connection.execute("DELETE FROM counters WHERE key = ANY($1::text[])", [c.key for c in counters])
            if buckets:
                await connection.execute(RESTORE_COUNTERS, *map(list, zip(*buckets)))

    # -- time windows and re-adjudication ---------------------------------------------------

    async def leaderboard_between(
        self, game: GameInfo, start: datetime, end: datetime, limit: int, cursor: str | None = None
    ) -> LeaderboardPage:
        after = _decode_cursor(cursor) if cursor else FIRST
        async with self._snapshot() as connection:
            rows = await connection.fetch(WINDOW_PAGE, game.id, start, end, *after, limit + 1)
            return await self._window_page(connection, game, start, end, rows, limit)

    async def around_between(
        self, game: GameInfo, start: datetime, end: datetime, player_id: str, limit: int
    ) -> LeaderboardPage:
        async with self._snapshot() as connection:
            rows = await connection.fetch(WINDOW_AROUND, game.id, start, end, player_id, (limit - 1) // 2, limit)
            return await self._window_page(connection, game, start, end, rows, limit)

    async def _window_page(self, connection, game: GameInfo, start, end, rows, limit: int) -> LeaderboardPage:
        """The rows carry their rank and the window's count of players (counted apart for an empty page)."""
        players = rows[0]["players"] if rows else await connection.fetchval(WINDOW_PLAYERS, game.id, start, end)
        entries = [
            LeaderboardEntry(
                rank=row["rank"],
                player=PlayerRef(id=row["player"], name=row["name"], picture=row["picture"]),
                score=row["score"],
                at=row["at"],
                verification="readjudicated" if row["seq"] <= (row["through"] or 0) else "verified",
            )
            for row in rows[:limit]
        ]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = f"{last['ordered']}~{last['seq']}"
        return LeaderboardPage(game=game.id, players=players, entries=entries, next_cursor=next_cursor)

    async def adjudication(self, game: GameInfo) -> Adjudication | None:
        async with self._snapshot() as connection:
            row = await connection.fetchrow("SELECT version, through, at FROM adjudications WHERE game = $1", game.id)
            if row is None:
                return None
            changes = {seq: value for seq, value in await connection.fetch(CHANGED, game.id)}
        return Adjudication(**row, changes=changes)

    async def publish_adjudication(
        self,
        game: GameInfo,
        version: str,
        through: int,
        changes: dict[int, int | None],
        *,
        audit: Moderation | None = None,
    ) -> Archive:
        """One transaction: the old board is copied into the archive, the new values written, the
        touched players ranked again and the audit entry written; submissions wait for it (the tables
        are locked against writes), and readers see the old board until it commits."""
        seqs = list(changes)
        values = [changes[seq] for seq in seqs]
        ordered = [None if value is None else game.ordered(value) for value in values]
        void = [seq for seq in seqs if changes[seq] is None]
        async with self._transaction() as connection:
            await connection.execute("LOCK TABLE scores, bests IN SHARE ROW EXCLUSIVE MODE")
            now = await connection.fetchval("SELECT clock_timestamp()")
            players = await connection.fetchval(
                "SELECT coalesce((SELECT players FROM boards WHERE game = $1), 0)", game.id
            )
            archive = await connection.fetchval(ARCHIVE, game.id, version, now, players)
            before = await connection.fetchval(
                "SELECT coalesce(max(through), 0) FROM adjudications WHERE game = $1", game.id
            )
            await connection.execute(ARCHIVE_ENTRIES, game.id, archive, void, before)
            touched = list(
                {row["player"] for row in await connection.fetch(APPLY_VERDICTS, game.id, seqs, values, ordered)}
            )
            await connection.execute("DELETE FROM bests WHERE game = $1 AND player = ANY($2::text[])", game.id, touched)
            await connection.execute(RANK_PLAYERS_AGAIN, game.id, touched)
            await connection.execute(ADJUDICATED, game.id, version, through, now)
            if audit is not None:
                entry = adjudication_audit(audit, archive)
                await _insert_audit(connection, entry, None, entry.before)
        return Archive(id=archive, game=game.id, at=now, version=version, players=players)

    async def archives(self, game: GameInfo) -> list[Archive]:
        async with self._connection() as connection:
            rows = await connection.fetch(
                "SELECT id, game, at, version, players FROM archives WHERE game = $1 ORDER BY id", game.id
            )
        return [Archive(**row) for row in rows]

    async def archived_board(
        self, game: GameInfo, archive_id: int, limit: int, cursor: str | None = None
    ) -> LeaderboardPage | None:
        if cursor and (not cursor.isdigit() or len(cursor) > 12):
            raise BadCursor(f"cursor {cursor!r} was not handed out by this archived board")
        after = int(cursor or 0)
        async with self._snapshot() as connection:
            players = await connection.fetchval(
                "SELECT players FROM archives WHERE game = $1 AND id = $2", game.id, archive_id
            )
            if players is None:
                return None
            rows = await connection.fetch(ARCHIVED_PAGE, archive_id, after, limit + 1)
        entries = [
            LeaderboardEntry(
                rank=row["rank"],
                player=PlayerRef(id=row["player"], name=row["name"], picture=row["picture"]),
                score=row["score"],
                at=row["at"],
                verification=row["verification"],
            )
            for row in rows[:limit]
        ]
        next_cursor = str(after + limit) if len(rows) > limit else None
        return LeaderboardPage(game=game.id, players=players, entries=entries, next_cursor=next_cursor)

    # -- scores accepted elsewhere ----------------------------------------------------------

    async def follow_scores(self, listener: Callable[[ScoreAccepted], None]) -> None:
        first = asyncio.get_running_loop().create_future()
        self._follower = asyncio.create_task(self._follow(listener, first))
        await asyncio.wait({first, self._follower}, return_when=asyncio.FIRST_COMPLETED)
        if self._follower.done():  # it failed in a way no outage explains: say so at start
            self._follower.result()

    async def _follow(self, listener: Callable[[ScoreAccepted], None], first: asyncio.Future) -> None:
        """LISTEN on a connection of its own (a pooled one goes back to the pool), checked when quiet
        and made again after an outage."""

        def heard(_connection, _pid, _channel, payload: str) -> None:
            try:
                announced = msgspec.json.decode(payload, type=Heard)
            except msgspec.DecodeError as error:
                log.warning("ignored a score announced on %s that could not be read: %s", self.channel, error)
                return
            if announced.origin != self._origin:
                listener(announced.score)

        failing = False
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(
                    self.dsn, timeout=CONNECT_TIMEOUT_S, server_settings={"application_name": "badge-arcade"}
                )
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _connection: lost.set())
                await connection.add_listener(self.channel, heard)
                if failing:
                    log.warning("live pages hear the other server processes' scores again")
                failing = False
                if not first.done():
                    first.set_result(None)
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), FOLLOW_CHECK_S)
                    except TimeoutError:
                        await connection.fetchval("SELECT 1", timeout=CONNECT_TIMEOUT_S)
                raise ConnectionResetError("the listening connection was closed")
            except CANNOT_CONNECT as error:
                if not failing:
                    log.warning(
                        "live pages miss the other server processes' scores until PostgreSQL at %s answers again: %s",
                        self.where,
                        _describe(error),
                    )
                failing = True
                if not first.done():
                    first.set_result(None)
                await asyncio.sleep(2)
            finally:
                if connection is not None:
                    connection.terminate()

    # -- records and counters ---------------------------------------------------------------

    async def get_record(self, kind: str, key: str) -> Record | None:
        async with self._connection() as connection:
            row = await connection.fetchrow(GET_RECORD, kind, key, time.time())
        return None if row is None else Record(**row)

    async def put_record(
        self,
        kind: str,
        key: str,
        value: dict,
        *,
        version: int,
        expires_at: float | None = None,
        audit: Moderation | None = None,
    ) -> Record | None:
        """Versions come from one sequence, so they are never reused, whatever was deleted. With
        ``audit``, the record and its audit entry are one transaction."""
        if audit is not None and audit.action not in EVENT_ACTIONS:
            raise StoreError(f"a record's audit entry must be an event action, not {audit.action!r}")
        now = time.time()
        gone = expires_at is not None and expires_at <= now
        async with self._transaction() if audit else self._connection() as connection:
            if version == 0 and gone:
                written = await connection.fetchval(CREATE_EXPIRED, kind, key, now)
            elif version == 0:
                written = await connection.fetchval(CREATE_RECORD, kind, key, now, value, expires_at)
            elif gone:
                written = await connection.fetchval(DELETE_RECORD, kind, key, now, version)
            else:
                written = await connection.fetchval(REPLACE_RECORD, kind, key, now, value, expires_at, version)
            if written is not None and audit is not None:
                await _insert_audit(connection, audit, None, audit.before)
        return None if written is None else Record(value=value, version=written, expires_at=expires_at)

    async def add_to_counter(self, key: str, now: int, window: int, amount: int = 1) -> int:
        """Additions to one counter take turns (an advisory lock on its key), so each answers a
        different sum and none is missed by another's."""
        if not amount:
            async with self._connection() as connection:
                return await connection.fetchval(COUNT, key, now - window, now)
        async with self._transaction() as connection:
            await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
            await connection.execute(ADD, key, now, amount, now + window + 1)
            await connection.execute("DELETE FROM counters WHERE key = $1 AND second < $2", key, now - window)
            return await connection.fetchval(COUNT, key, now - window, now)


async def _insert_audit(connection, change: Moderation, game: str | None, before: str | None) -> StoredAudit:
    row = await connection.fetchrow(
        f"""INSERT INTO audit (action, player, actor, reason, submission_id, game, value, before)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {AUDIT_COLUMNS}""",
        change.action,
        change.player,
        change.actor,
        change.reason,
        change.submission_id,
        game,
        change.value,
        before,
    )
    return StoredAudit(**row)


async def _prepare(connection) -> None:
    """Each new connection reads and writes jsonb as Python values, with msgspec."""
    await connection.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda value: msgspec.json.encode(value).decode(),
        decoder=msgspec.json.decode,
        format="text",
    )


async def _delete_expired(connection) -> None:
    now = time.time()
    await connection.execute("DELETE FROM records WHERE expires_at <= $1", now)
    await connection.execute("DELETE FROM counters WHERE expires_at <= $1", int(now))


def _columns(items: list, *names: str) -> list[list]:
    """The arrays of ``names`` across ``items``, one per name, for a statement that unnests them."""
    return [[getattr(item, name) for item in items] for name in names]


def _decode_cursor(cursor: str) -> tuple[int, int]:
    match = CURSOR.fullmatch(cursor)
    key = match and (int(match[1]), int(match[2]))
    if not key or not all(-(2**63) <= part < 2**63 for part in key):
        raise BadCursor(f"cursor {cursor!r} was not handed out by this leaderboard")
    return key


def _where(dsn: str | None) -> str:
    """Where the store connects, for messages: the DSN without a password, or what libpq's
    variables say."""
    if dsn is None:
        host, port = os.environ.get("PGHOST", "localhost"), os.environ.get("PGPORT", "5432")
        return f"{host}:{port} (PGHOST and PGPORT, or their defaults: no [store.postgres] dsn is set)"
    parts = urlsplit(dsn)
    netloc = parts.netloc if parts.password is None else parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    query = urlencode([(key, "***" if key == "password" else value) for key, value in parse_qsl(parts.query)])
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _describe(error: Exception) -> str:
    """What went wrong, in the same words whichever event loop tried (uvloop's and asyncio's differ)."""
    if isinstance(error, ConnectionError) and error.errno:
        return os.strerror(error.errno)
    return str(error) or type(error).__name__
