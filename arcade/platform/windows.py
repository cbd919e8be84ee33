"""Time-window boards: the whole event, each day, or named sessions, in the event's time zone.

Why a score counts by the server's time of acceptance: a badge's clock is never trusted (it has
none worth the name), and the store already records when it accepted each score. A score counts
in every window whose range ``[start, end)`` holds that moment, so the day and the session it
was played in both show it. Windows are read from ``[event]`` in ``arcade.toml``; a window that
ended stays browsable (it is computed from the stored scores, which are never thrown away).
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from arcade.sdk.errors import ArcadeError, ConfigError
from arcade.sdk.settings import located

EVENT = "event"
"""The id of the whole event's window: the board every page shows by default."""
MAX_DAYS = 366
WINDOW_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


class SessionSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[[event.windows]]``: a named session, its times local to the event's time zone."""

    name: str
    """The window's id in URLs (``?window=keynote``): lowercase letters, digits and hyphens."""
    title: str | None = None
    """What the pages call it; the name if not given."""
    start: datetime
    end: datetime


class EventSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``[event]``: its name, the time zone its days, sessions and shown times are in, and its windows."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)] = "Badge Arcade"
    """Shown on the event screen (``/screen``) and in the pages' titles."""
    join_url: str | None = None
    """Where the event screen's QR code leads: by default the built-in provider's verification page."""
    time_zone: str = "UTC"
    """An IANA zone (``Europe/Berlin``)."""
    days: bool = False
    """A window for each day from ``first_day`` to ``last_day``, midnight to midnight."""
    first_day: date | None = None
    last_day: date | None = None
    windows: list[SessionSettings] = []

    @property
    def zone(self) -> ZoneInfo:
        """The time zone; :func:`windows_of` has checked it when the settings were loaded."""
        return ZoneInfo(self.time_zone)


class Window(msgspec.Struct, frozen=True, kw_only=True):
    """One board's time range; ``start`` and ``end`` are None for the whole event."""

    id: str
    title: str
    kind: Literal["event", "day", "session"]
    start: datetime | None = None
    end: datetime | None = None
    source: Literal["config", "admin"] = "config"
    """Where it is set: ``[event]`` of arcade.toml, or an admin's page (``arcade.platform.admin_windows``)."""

    def state(self, now: datetime) -> Literal["upcoming", "open", "ended"]:
        if self.start is not None and now < self.start:
            return "upcoming"
        if self.end is not None and now >= self.end:
            return "ended"
        return "open"


class Windows:
    """The event's windows, in the order the picker shows them: the event, the days, the sessions."""

    def __init__(self, windows: list[Window], zone: ZoneInfo):
        self.zone = zone
        self._by_id = {window.id: window for window in windows}

    def __iter__(self):
        return iter(self._by_id.values())

    def get(self, window_id: str | None) -> Window | None:
        """The window with this id (None or "" is the whole event), or None if there is none."""
        return self._by_id.get(window_id or EVENT)

    def ids(self) -> list[str]:
        return list(self._by_id)


def windows_of(event: EventSettings, source: str = "defaults", origins: dict[str, str] | None = None) -> Windows:
    """Check ``[event]`` and make its windows; a ConfigError names the key that is wrong."""
    origins = origins or {}

    def error(key: str, message: str) -> ConfigError:
        return ConfigError(located(key, message, source, origins))

    try:
        zone = ZoneInfo(event.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise error(
            "event.time_zone",
            f"{event.time_zone!r} is no time zone this machine knows; use an IANA name like "
            "'Europe/London' or 'America/New_York'",
        ) from None
    windows = [Window(id=EVENT, title="Whole event", kind="event")]
    if event.days:
        for key in ("first_day", "last_day"):
            if getattr(event, key) is None:
                raise error(
                    f"event.{key}", "is needed when event.days is true: the days the event runs, like 2026-12-01"
                )
        count = (event.last_day - event.first_day).days + 1
        if count < 1:
            raise error("event.last_day", f"{event.last_day} is before event.first_day ({event.first_day})")
        if count > MAX_DAYS:
            raise error("event.last_day", f"the event would have {count} days; at most {MAX_DAYS} are shown")
        for number in range(count):
            day = event.first_day + timedelta(days=number)
            start = datetime.combine(day, time(), zone).astimezone(UTC)
            end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
            windows.append(Window(id=day.isoformat(), title=f"{day:%A %d %B}", kind="day", start=start, end=end))
    taken = {window.id: "a day window" for window in windows}
    taken[EVENT] = "the whole event's window"
    for index, session in enumerate(event.windows):
        key = f"event.windows[{index}]"
        try:
            window = session_window(session.name, session.title, session.start, session.end, zone, taken)
        except BadWindow as bad:
            raise error(f"{key}.{bad.field}", str(bad)) from None
        taken[session.name] = f"the name of {key}"
        windows.append(window)
    return Windows(windows, zone)


class BadWindow(ArcadeError):
    """A session that cannot be a window; ``field`` is what is wrong: its name, title, start or end
    (or the reason given for the edit)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def session_window(
    name: str, title: str | None, start: datetime, end: datetime, zone: ZoneInfo, taken: dict[str, str]
) -> Window:
    """A named session as a window, its times local to ``zone`` unless they say their offset;
    ``taken`` maps the names already used to what uses them."""
    if not WINDOW_NAME.fullmatch(name):
        raise BadWindow(
            "name",
            f"{name!r} cannot name a window in a URL (?window=...): use 1 to 40 lowercase "
            "letters, digits and hyphens, like 'keynote' or 'day-2-finals'",
        )
    if name in taken:
        raise BadWindow("name", f"{name!r} is already {taken[name]}; give each window its own name")
    begins, ends = _local(start, zone), _local(end, zone)
    if ends <= begins:
        raise BadWindow("end", f"{end} is not after the window's start ({start})")
    return Window(id=name, title=title or name, kind="session", start=begins, end=ends)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A time from the settings: local to the event's zone unless it says its offset; kept in UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
