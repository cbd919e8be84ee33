"""Sessions that admins add, change and remove from the admin pages, beside those of ``[event]``.

Why a store record: every server process (and ``arcade export-board``) reads the same one, so a
session an admin adds is a board everywhere at once, on every store. Writes are compare-and-set
on the record's version, so two admins editing at once both land, neither lost. The windows of
``[event]`` stay as arcade.toml says: the file is read again at each start, and a page that
changed them would be overruled by it without a word; an admin session cannot take their names.
"""

from datetime import datetime
from typing import Literal

import msgspec

from arcade.platform.windows import EVENT, BadWindow, Window, Windows, session_window
from arcade.sdk.store import Moderation, Store

KIND = "event-windows"
KEY = "sessions"
MAX_SESSIONS = 200
MAX_TITLE = 80
"""The longest title a session keeps, in characters (the page's field takes no more)."""


class Session(msgspec.Struct, kw_only=True):
    """An admin's session as the record keeps it, its times in UTC."""

    name: str
    title: str
    start: datetime
    end: datetime


class Edit(msgspec.Struct, kw_only=True):
    """What an admin asked: add a session, change one's title or times, or remove one.
    Times without an offset are in the event's time zone."""

    action: Literal["add", "change", "remove"]
    name: str
    title: str = ""
    start: datetime | None = None
    end: datetime | None = None


async def sessions(store: Store) -> tuple[list[Session], int]:
    """The admins' sessions and the record's version (0: none yet)."""
    record = await store.get_record(KIND, KEY)
    if record is None:
        return [], 0
    return msgspec.convert(record.value["sessions"], list[Session]), record.version


def as_window(session: Session) -> Window:
    return Window(
        id=session.name, title=session.title, kind="session", start=session.start, end=session.end, source="admin"
    )


async def event_windows(configured: Windows, store: Store) -> Windows:
    """The windows of ``[event]``, then the admins' sessions in the order they were added."""
    added, _ = await sessions(store)
    return Windows([*configured, *map(as_window, added)], configured.zone)


async def apply(store: Store, configured: Windows, edit: Edit, actor: str, reason: str) -> None:
    """Make the edit and its audit entry (by ``actor``, for ``reason``) in one durable step: a crash
    keeps both or neither.

    A :class:`BadWindow` says what is wrong with the edit (its ``field``) and changes nothing."""
    while True:
        held, version = await sessions(store)
        found = next((session for session in held if session.name == edit.name), None)
        if edit.action != "add" and found is None:
            kept = configured.get(edit.name)
            why = "comes from [event] in arcade.toml: change it there" if kept is not None else "is no admin's session"
            raise BadWindow("name", f"{edit.name!r} {why}")
        changed = [session for session in held if session is not found]
        after = None
        if edit.action != "remove":
            if edit.action == "add" and len(held) >= MAX_SESSIONS:
                raise BadWindow("name", f"there are already {MAX_SESSIONS} sessions; remove an old one first")
            if edit.start is None or edit.end is None:
                raise BadWindow("start" if edit.start is None else "end", "give the session's start and end")
            taken = {window.id: "another window's name" for window in configured}
            taken[EVENT] = "the whole event's window"
            taken.update({session.name: "an admin's session" for session in changed})
            title = " ".join(edit.title.split())
            if len(title) > MAX_TITLE:
                raise BadWindow("title", f"give a title of at most {MAX_TITLE} characters (this one has {len(title)})")
            after = session_window(edit.name, title, edit.start, edit.end, configured.zone, taken)
            changed.append(Session(name=after.id, title=after.title, start=after.start, end=after.end))
        value = {"sessions": msgspec.to_builtins(sorted(changed, key=lambda session: (session.start, session.name)))}
        audit = Moderation(
            action=f"{edit.action}-window",
            player="",
            actor=actor,
            reason=reason,
            submission_id=edit.name,
            value=describe(after, configured.zone),
            before=describe(as_window(found) if found else None, configured.zone),
        )
        if await store.put_record(KIND, KEY, value, version=version, audit=audit) is not None:
            return


def describe(window: Window | None, zone) -> str | None:
    """A window as the audit log says it: its title and its times in the event's time zone."""
    if window is None:
        return None
    local = [moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") for moment in (window.start, window.end)]
    return f"{window.title}: {local[0]} to {local[1]} {window.end.astimezone(zone).tzname()}"
