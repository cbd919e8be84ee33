"""The store's tables, as numbered migrations applied in order, each once, inside one transaction.

Why numbered: a database outlives the code that made it, so the schema records its version
(table ``schema_version``) and the code brings an older one up to date at start, or with
``arcade db upgrade``. A database newer than the code is refused rather than guessed at: an
older arcade would misread it. Add a migration at the end; never change one that has shipped.
"""

from arcade.sdk.store import StoreError

MIGRATIONS = (
    """
    CREATE TABLE players (
        id text PRIMARY KEY,
        issuer text NOT NULL,
        subject text NOT NULL,
        name text NOT NULL,
        picture text
    );
    CREATE INDEX players_by_issuer ON players (issuer);

    -- Every accepted score, with the answer it got, so a retried submission gets that answer again.
    -- seq is the acceptance order; ordered is the score with smaller always better.
    CREATE TABLE scores (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        player text NOT NULL REFERENCES players (id),
        submission_id text NOT NULL,
        game text NOT NULL,
        score bigint NOT NULL,
        ordered bigint NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        run bytea NOT NULL,
        best bigint,
        rank bigint,
        new_best boolean,
        UNIQUE (player, submission_id)
    );

    -- Each player's best per game, kept in the same transaction as the score: the leaderboard.
    CREATE TABLE bests (
        game text NOT NULL,
        player text NOT NULL REFERENCES players (id),
        ordered bigint NOT NULL,
        seq bigint NOT NULL,
        score bigint NOT NULL,
        at timestamptz NOT NULL,
        PRIMARY KEY (game, player)
    );
    CREATE INDEX bests_ranked ON bests (game, ordered, seq);

    -- How many players each game has, so a page need not count them: a best comes and goes with a player.
    -- Counted once a statement, so a move of many players updates each game's row once.
    CREATE TABLE boards (
        game text PRIMARY KEY,
        players bigint NOT NULL
    );
    CREATE FUNCTION count_players() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO boards AS b SELECT game, count(*) FROM added GROUP BY game
            ON CONFLICT (game) DO UPDATE SET players = b.players + EXCLUDED.players;
        ELSE
            UPDATE boards AS b SET players = b.players - gone.players
            FROM (SELECT game, count(*) AS players FROM removed GROUP BY game) AS gone
            WHERE b.game = gone.game;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER players_added AFTER INSERT ON bests REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION count_players();
    CREATE TRIGGER players_removed AFTER DELETE ON bests REFERENCING OLD TABLE AS removed
        FOR EACH STATEMENT EXECUTE FUNCTION count_players();

    CREATE TABLE records (
        kind text NOT NULL,
        key text NOT NULL,
        value jsonb NOT NULL,
        version bigint NOT NULL,
        expires_at double precision,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX records_expiring ON records (expires_at) WHERE expires_at IS NOT NULL;
    CREATE SEQUENCE record_versions;

    CREATE TABLE counters (
        key text NOT NULL,
        second bigint NOT NULL,
        amount bigint NOT NULL,
        expires_at bigint NOT NULL,
        PRIMARY KEY (key, second)
    );
    CREATE INDEX counters_expiring ON counters (expires_at);
    """,
    """
    -- How many players hold each best score of a game: a rank is one plus the players of the better
    -- scores, a sum over the few hundred scores a game's bests take rather than a count of every better
    -- player (each of 100,000 at the bottom of a board). Counted once a statement, and in the order of
    -- the scores, so submissions that change a best in the same moment lock their rows in one order.
    CREATE TABLE standings (
        game text NOT NULL,
        ordered bigint NOT NULL,
        players bigint NOT NULL,
        PRIMARY KEY (game, ordered)
    );
    INSERT INTO standings SELECT game, ordered, count(*) FROM bests GROUP BY game, ordered;
    CREATE FUNCTION count_standings() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO standings AS s SELECT game, ordered, count(*) FROM added GROUP BY game, ordered
            ORDER BY game, ordered
            ON CONFLICT (game, ordered) DO UPDATE SET players = s.players + EXCLUDED.players;
        ELSIF TG_OP = 'DELETE' THEN
            UPDATE standings AS s SET players = s.players - gone.players
            FROM (SELECT game, ordered, count(*) AS players FROM removed GROUP BY game, ordered) AS gone
            WHERE (s.game, s.ordered) = (gone.game, gone.ordered);
        ELSE
            INSERT INTO standings AS s
            SELECT game, ordered, sum(change) FROM (
                SELECT game, ordered, 1 AS change FROM added
                UNION ALL SELECT game, ordered, -1 FROM removed
            ) AS changes
            GROUP BY game, ordered ORDER BY game, ordered
            ON CONFLICT (game, ordered) DO UPDATE SET players = s.players + EXCLUDED.players;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER standings_added AFTER INSERT ON bests REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION count_standings();
    CREATE TRIGGER standings_moved AFTER UPDATE ON bests REFERENCING OLD TABLE AS removed NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION count_standings();
    CREATE TRIGGER standings_removed AFTER DELETE ON bests REFERENCING OLD TABLE AS removed
        FOR EACH STATEMENT EXECUTE FUNCTION count_standings();
    """,
    """
    -- Re-adjudication: a score whose value a replay under newer rules changed keeps what was claimed
    -- (a retried submission is answered as before); 'void' is a run that no longer verifies.
    ALTER TABLE scores ADD COLUMN claimed bigint, ADD COLUMN verdict text CHECK (verdict IN ('moved', 'void'));

    -- Time-window boards: each player's best among the scores accepted in a range of time is a range
    -- of this index (only-index: it holds what ranking needs), never a scan of every score.
    CREATE INDEX scores_by_time ON scores (game, at) INCLUDE (player, ordered, seq, score, verdict);
    CREATE TABLE adjudications (
        game text PRIMARY KEY,
        version text NOT NULL,
        through bigint NOT NULL,
        at timestamptz NOT NULL
    );
    CREATE TABLE archives (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        game text NOT NULL,
        version text NOT NULL,
        at timestamptz NOT NULL,
        players bigint NOT NULL
    );
    CREATE INDEX archives_of_game ON archives (game, id);
    CREATE TABLE archived_entries (
        archive bigint NOT NULL REFERENCES archives (id),
        position bigint NOT NULL,
        rank bigint NOT NULL,
        player text NOT NULL,
        name text NOT NULL,
        picture text,
        score bigint NOT NULL,
        at timestamptz NOT NULL,
        verification text NOT NULL,
        PRIMARY KEY (archive, position)
    );
    """,
    """
    -- Moderation (docs/running-an-event.md): a banned player's bests leave the bests table (so every
    -- board, rank and count leaves them out) and come back from their visible scores at unban; a hidden
    -- score is never a best. The audit log keeps every action; refused runs are evidence, bounded.
    ALTER TABLE players
        ADD COLUMN banned text,
        ADD COLUMN name_locked boolean NOT NULL DEFAULT false,
        ADD COLUMN picture_locked boolean NOT NULL DEFAULT false;
    ALTER TABLE scores ADD COLUMN hidden boolean NOT NULL DEFAULT false;
    -- a window's board reads only this index, so it holds whether a score is hidden too
    DROP INDEX scores_by_time;
    CREATE INDEX scores_by_time ON scores (game, at) INCLUDE (player, ordered, seq, score, verdict, hidden);
    CREATE TABLE audit (
        seq bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        action text NOT NULL,
        player text NOT NULL,
        actor text NOT NULL,
        reason text NOT NULL,
        submission_id text,
        game text,
        value text,
        before text
    );
    CREATE TABLE refused_runs (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        player text NOT NULL,
        run jsonb NOT NULL
    );
    CREATE INDEX refused_runs_by_player ON refused_runs (player, seq);
    """,
    """
    -- The board's size when a score was ranked, answered with its rank ("rank 3 of 12" on the badge).
    ALTER TABLE scores ADD COLUMN players bigint;
    """,
)
VERSION = len(MIGRATIONS)
"""The schema version this code reads and writes."""


async def upgrade(connection, schema: str) -> tuple[int, int]:
    """Apply the migrations the database's schema lacks; answer (version before, version after).

    Processes starting together take turns on an advisory lock, so each migration runs once.
    """
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('badge-arcade schema ' || $1))", schema)
        if await connection.fetchval("SELECT to_regclass($1)", f'"{schema}".schema_version') is None:
            if not await connection.fetchval("SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", schema):
                await connection.execute(f'CREATE SCHEMA "{schema}"')
            await connection.execute(f'CREATE TABLE "{schema}".schema_version (version integer NOT NULL)')
        found = await connection.fetchval(f'SELECT max(version) FROM "{schema}".schema_version') or 0
        if found > VERSION:
            raise StoreError(
                f"the PostgreSQL schema {schema!r} is at version {found}, newer than this arcade's ({VERSION}): a "
                "newer badge-arcade upgraded it, and this one would misread it. Upgrade badge-arcade to the "
                "version that serves this database, or give [store.postgres] another schema"
            )
        await connection.execute(f'SET LOCAL search_path TO "{schema}"')
        for migration in MIGRATIONS[found:]:
            await connection.execute(migration)
        if found < VERSION:
            await connection.execute("DELETE FROM schema_version")
            await connection.execute("INSERT INTO schema_version VALUES ($1)", VERSION)
        return found, VERSION
