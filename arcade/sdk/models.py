"""The msgspec models of the v1 JSON API and of what stores keep.

They are the wire contract with the badges: change them only compatibly.
"""

import base64
import hashlib
import re
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from arcade.sdk.identity import DeviceSettings, Principal, Profile

MAX_RUN_INPUTS = 20_000
BUTTONS_MASK_MAX = 0xFF

SubmissionId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="Idempotency key chosen by the badge for one run: 8-64 of A-Z a-z 0-9 _ -.",
    ),
]
Tick = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
Buttons = Annotated[int, msgspec.Meta(ge=0, le=BUTTONS_MASK_MAX)]


def player_id(issuer: str, subject: str) -> str:
    """A short public id for the player (issuer, subject): stable, and it reveals neither."""
    digest = hashlib.sha256(f"{issuer}\x00{subject}".encode()).digest()
    return base64.b32encode(digest[:10]).decode().lower()


class Run(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A recorded game run: the seed and the ticks where the button mask changed."""

    seed: Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
    inputs: Annotated[list[tuple[Tick, Buttons]], msgspec.Meta(max_length=MAX_RUN_INPUTS)] = []
    ticks: Tick = 0
    """How many logic ticks the run lasted."""


class ScoreSubmission(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /api/v1/games/{game}/scores``."""

    score: int
    run: Run
    submission_id: SubmissionId


class PlayerRef(msgspec.Struct, kw_only=True):
    id: str
    name: str
    picture: str | None = None


class Player(msgspec.Struct, kw_only=True):
    """A player as stored: who they are at their issuer and how they are shown."""

    id: str
    issuer: str
    subject: str
    name: str
    picture: str | None = None
    banned: str | None = None
    """Why the organisers banned the player (shown to them), or None: their scores are on no board."""
    name_locked: bool = False
    """The name was set in the arcade (by the player or an admin): the provider's no longer replaces it."""
    picture_locked: bool = False
    """The picture was set in the arcade (an admin reset it): the provider's no longer replaces it."""

    def ref(self) -> PlayerRef:
        return PlayerRef(id=self.id, name=self.name, picture=self.picture)

    def refreshed(self, fresh: "Player") -> "Player":
        """This stored player with what ``fresh`` (from the provider) says, except what the arcade set:
        a locked name or picture and a ban stay."""
        return msgspec.structs.replace(
            fresh,
            name=self.name if self.name_locked else fresh.name,
            picture=self.picture if self.picture_locked else fresh.picture,
            banned=self.banned,
            name_locked=self.name_locked,
            picture_locked=self.picture_locked,
        )

    @classmethod
    def of(cls, principal: Principal, profile: Profile, picture: str | None) -> "Player":
        """The player a verified token speaks for, as any store can keep it and any page show it.

        Whatever a provider sends: the id comes from the subject exactly as sent, so it stays the
        same player; the name loses its control characters (a NUL, which PostgreSQL's text cannot
        hold, a newline, an escape), and the stored issuer and subject their NULs."""
        name = display_name(profile.name) or display_name(principal.subject) or "player"
        return cls(
            id=player_id(principal.issuer, principal.subject),
            issuer=principal.issuer.replace("\x00", "\ufffd"),
            subject=principal.subject.replace("\x00", "\ufffd"),
            name=name,
            picture=picture,
        )


NAME_LENGTH = 64
"""The most characters of a name a leaderboard shows."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def display_name(text: str) -> str:
    """``text`` as a board shows a name: control characters gone, spaces folded, at most
    :data:`NAME_LENGTH` characters; empty if nothing printable is left."""
    return _printable(text)[:NAME_LENGTH]


def typed_name(text: str) -> str:
    """A name a person typed (their own, an admin's rename), cleaned as :func:`display_name` cleans
    one; a ValueError says what to fix if nothing printable is left or it is too long, where cutting
    it would show a name nobody chose."""
    name = _printable(text)
    if not name or len(name) > NAME_LENGTH:
        typed = f" (this one has {len(name)})" if name else ""
        raise ValueError(f"give a name of 1 to {NAME_LENGTH} printable characters{typed}")
    return name


def neutral_name(player: str) -> str:
    """The name an admin's reset gives a player: says nothing, and stays the same for the same player."""
    return f"Player {player[:6].upper()}"


def _printable(text: str) -> str:
    """``text`` with each run of control characters (C0, DEL, C1) made one space, trimmed."""
    return " ".join(_CONTROL.sub(" ", text).split())


class ScoreAccepted(msgspec.Struct, kw_only=True):
    """The answer to a score submission; the same submission_id answers it again unchanged."""

    game: str
    submission_id: str
    player: PlayerRef
    score: int
    best: int
    """The player's best score in this game, this one included."""
    rank: int
    """The player's rank (competition ranking) with that best score."""
    players: int
    """How many players the game's board had then, this one included: the badge says "rank 3 of 12"."""
    new_best: bool
    at: datetime


Verification = Literal["verified", "readjudicated", "no_longer_verifies"]
"""How an entry's score was checked: replayed when it was accepted; replayed again by a
re-adjudication under the game's newer rules (its score may have moved); or, in an archived board
only, its run no longer verifies under the rules of the re-adjudication that archived it."""


class LeaderboardEntry(msgspec.Struct, kw_only=True):
    rank: int
    player: PlayerRef
    score: int
    at: datetime
    """When the player first reached this best score."""
    verification: Verification = "verified"


class LeaderboardPage(msgspec.Struct, kw_only=True):
    game: str
    players: int
    """How many players have a score in this game."""
    entries: list[LeaderboardEntry]
    next_cursor: str | None = None
    """Pass as ``cursor`` to get the next page; absent on the last page."""


class GameSummary(msgspec.Struct, kw_only=True):
    id: str
    title: str
    version: str
    order: Literal["higher", "lower"]
    unit: str
    min_score: int
    max_score: int


class PlayerBest(msgspec.Struct, kw_only=True):
    game: str
    score: int
    rank: int
    at: datetime


class PlayerDetail(msgspec.Struct, kw_only=True):
    player: PlayerRef
    bests: list[PlayerBest]


class BadgeGame(msgspec.Struct, kw_only=True):
    id: str
    title: str
    version: str
    order: Literal["higher", "lower"]
    unit: str


class CatalogSignature(msgspec.Struct, kw_only=True):
    kid: str
    """The key that made it (the badge keeps the keys it trusts by id)."""
    sig: str
    """RSASSA-PKCS1-v1_5 with SHA-256 of ``manifest``'s UTF-8 bytes, hex."""


class SignedCatalog(msgspec.Struct, kw_only=True):
    """The games a badge can get over the air. ``manifest`` is JSON text, sent as a string so the
    badge checks the signature on exactly the bytes that were signed: ``mpy`` (the .mpy version the
    games are built for), ``games`` (id, title, version, order, unit, size and sha256 of its .mpy,
    fetched from ``/api/v1/badge/files/<sha256>.mpy``), ``keys`` (the keys that sign from now on), and
    ``issued`` and ``expires`` (unix seconds: a badge refuses a manifest older than one it checked, or
    expired by its clock)."""

    manifest: str
    signatures: list[CatalogSignature]


class BadgeInfo(msgspec.Struct, kw_only=True):
    """``GET /api/v1/badge``: everything a badge needs at boot, so it stores only Wi-Fi and a URL."""

    api_version: int
    server_time: int
    """Unix seconds; the badge uses it for display only and never trusts its own clock."""
    games: list[BadgeGame]
    identity: DeviceSettings
    catalog: SignedCatalog | None = None
    """The games over the air, signed; None when this server cannot build them (no mpy-cross)."""
