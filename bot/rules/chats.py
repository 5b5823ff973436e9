"""The rules about a chat: its state, when it is next due (its time, reading days and any
pause), which script it reads in.

Each rule is a pure function of a ``ChatState`` (and the time, where time matters), so the
handlers, the deliverer and the store's transactions all apply the same one;
``ChatService`` (``bot.services.chat_service``) runs each change as one store transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.content.scripts import Script, script_for_language
from bot.rules.schedule import (
    EVERY_DAY,
    caught_up,
    local_midnight,
    next_due_epoch,
    next_occurrence,
    read_to_end,
)

PRIVATE, GROUP, SUPERGROUP, CHANNEL = "private", "group", "supergroup", "channel"
# A pause "until I come back" lasts until /resume: its end is the last second of year 9999.
UNTIL_RESUMED = 253_402_300_799
PAUSE_DAYS_DEFAULT, PAUSE_DAYS_MAX = 7, 365


@dataclass(frozen=True)
class ChatState:
    """One chat as the store keeps it: progress, subscription and settings."""

    chat_id: int
    kind: str  # private, group, supergroup, channel
    title: str = ""
    script: Script | None = None  # the chat's own script: digests in groups and channels
    progress: int = 0  # the highest section read
    read_mask: int = 0  # bit n-1 set: section n was shown
    active: bool = True  # the bot can still post there
    subscribed: bool = False
    delivery_time: time | None = None  # local wall time; None: the default
    timezone: ZoneInfo | None = None  # None: the default
    quiet: bool = False
    thread_id: int | None = None  # the forum topic the subscription was made in
    next_due_at: int | None = None  # epoch seconds; None: nothing scheduled
    finished: bool = False  # the end of the article was delivered
    failures: int = 0
    claim_token: str | None = None
    started_at: int | None = None  # the first section reached the chat (epoch seconds)
    finished_at: int | None = None  # the last one did
    onthisday: bool = True  # on-this-day cards between the story's dates
    onthisday_last: str | None = None  # local date (ISO) of the last one sent
    parked_reason: str | None = None  # digests stopped after repeated refusals: why
    parked_at: int | None = None  # since when (epoch seconds)
    paused_until: int | None = None  # no digest before then (epoch s); UNTIL_RESUMED: /resume
    reading_days: int = EVERY_DAY  # weekdays digests come on (bit 0 Monday ... bit 6 Sunday)

    @property
    def sections_read(self) -> int:
        return self.read_mask.bit_count()

    def has_read(self, section: int) -> bool:
        return bool(self.read_mask >> (section - 1) & 1)

    @property
    def private(self) -> bool:
        return self.kind == PRIVATE

    def paused_at(self, now: int) -> bool:
        """Tell whether a pause holds the digests back at epoch second ``now``."""
        return self.paused_until is not None and self.paused_until > now


@dataclass(frozen=True)
class ChatDefaults:
    """What a chat uses until it chooses (the bot's time zone and delivery time), and the
    length of the article it reads."""

    timezone: ZoneInfo
    delivery_time: time
    sections: int = 0  # 0: not known (then only ``finished`` ends the deliveries)


# --- pure rules ------------------------------------------------------------------------------


def zone_of(chat: ChatState, defaults: ChatDefaults) -> ZoneInfo:
    return chat.timezone or defaults.timezone


def time_of(chat: ChatState, defaults: ChatDefaults) -> time:
    return chat.delivery_time or defaults.delivery_time


def read_all(chat: ChatState, defaults: ChatDefaults) -> bool:
    """Tell whether the chat has read (or been sent) the whole article."""
    known = defaults.sections > 0  # else only ``finished`` says so
    return chat.finished or (known and read_to_end(chat.progress, defaults.sections))


def next_due(chat: ChatState, now: datetime, defaults: ChatDefaults) -> int | None:
    """Return when the chat's next digest is due, or None when nothing should be scheduled.

    The digest comes at the chat's time, on its next reading day (in its zone), and not
    before a pause ends. A chat that has read everything, or paused until it comes back,
    is not scheduled: a delivery would only say so (``schedule.read_to_end``).
    """
    if not (chat.subscribed and chat.active) or read_all(chat, defaults):
        return None
    if chat.paused_until is not None and chat.paused_until >= UNTIL_RESUMED:
        return None
    after = now
    if chat.paused_at(int(now.timestamp())):
        assert chat.paused_until is not None
        # One second before the pause ends: a digest due at that very second still comes.
        after = datetime.fromtimestamp(chat.paused_until - 1, UTC)
    return next_due_epoch(
        after, time_of(chat, defaults), zone_of(chat, defaults), chat.reading_days
    )


def is_due(chat: ChatState, now: int) -> bool:
    """Tell whether the chat's digest is due at epoch second ``now`` (leases aside).

    The store's claim selects by the same rule in SQL (``bot.store.queue.due``); a test
    holds the two to each other.
    """
    return (
        chat.subscribed
        and chat.active
        and chat.next_due_at is not None
        and chat.next_due_at <= now
        and not chat.paused_at(now)
    )


def paused(chat: ChatState, days: int | None, now: datetime, defaults: ChatDefaults) -> ChatState:
    """Hold the digests back for ``days`` local days (None: until /resume).

    Progress is unchanged; the first digest after the pause comes on the day it ends, at
    the chat's time (or on the next reading day after that).
    """
    if days is None:
        until = UNTIL_RESUMED
    else:
        # The pause covers ``days`` whole days of digests: from today if today's is still
        # ahead, else from tomorrow.
        zone = zone_of(chat, defaults)
        first = next_occurrence(now, time_of(chat, defaults), zone).astimezone(zone).date()
        until = local_midnight(first + timedelta(days=days), zone)
    changed = replace(chat, paused_until=until)
    return replace(changed, next_due_at=next_due(changed, now, defaults))


def resumed(chat: ChatState, now: datetime, defaults: ChatDefaults) -> ChatState:
    """End a pause at once: the next digest comes at the chat's next time."""
    changed = replace(chat, paused_until=None)
    return replace(changed, next_due_at=next_due(changed, now, defaults))


def with_reading_days(
    chat: ChatState, days: int, now: datetime, defaults: ChatDefaults
) -> ChatState:
    changed = replace(chat, reading_days=days)
    return replace(changed, next_due_at=next_due(changed, now, defaults))


def resume_day(chat: ChatState, defaults: ChatDefaults) -> date | None:
    """Return the local day a pause ends, or None when it lasts until /resume (or none)."""
    if chat.paused_until is None or chat.paused_until >= UNTIL_RESUMED:
        return None
    local = datetime.fromtimestamp(chat.paused_until, UTC).astimezone(zone_of(chat, defaults))
    return local.date()


def local_due(chat: ChatState, defaults: ChatDefaults) -> datetime | None:
    """Return the next delivery as a local time of the chat's zone."""
    if chat.next_due_at is None:
        return None
    return datetime.fromtimestamp(chat.next_due_at, UTC).astimezone(zone_of(chat, defaults))


def reader_script(
    chosen: Script | None, chat: ChatState | None, chat_kind: str, language_code: str | None
) -> Script:
    """Return the script to answer a person in.

    Their own choice first; in a group or channel the chat's script; else the script their
    Telegram language suggests, and the article's own traditional script for the rest.
    """
    if chosen is not None:
        return chosen
    if chat_kind != PRIVATE:
        return chat.script if chat is not None and chat.script else Script.TRADITIONAL
    return script_for_language(language_code, Script.TRADITIONAL)


def digest_script(chat: ChatState) -> Script:
    """Return the script the chat's daily digest is sent in."""
    return chat.script or Script.TRADITIONAL


def subscribed(
    chat: ChatState,
    *,
    at: time,
    quiet: bool,
    thread_id: int | None,
    script: Script,
    now: datetime,
    defaults: ChatDefaults,
    days: int | None = None,
) -> ChatState:
    """Subscribe at ``at`` local time (on ``days``, or the reading days chosen before); the
    chat keeps a script it chose before.

    A chat that has read everything is refused and nothing is recorded: a subscription it
    was told it did not get must not wake up after a /reset.
    """
    if read_all(chat, defaults) and not chat.subscribed:
        return chat
    changed = replace(
        chat,
        reading_days=chat.reading_days if days is None else days,
        subscribed=True,
        active=True,
        delivery_time=at,
        timezone=zone_of(chat, defaults),
        quiet=quiet,
        thread_id=thread_id,
        failures=0,
        script=chat.script or script,
    )
    return replace(changed, next_due_at=next_due(changed, now, defaults))


def unsubscribed(chat: ChatState) -> ChatState:
    """Stop the digests; a pause ends with them (a new subscription starts unpaused)."""
    return replace(chat, subscribed=False, next_due_at=None, paused_until=None)


def moved_to_zone(
    chat: ChatState, zone: ZoneInfo, now: datetime, defaults: ChatDefaults
) -> ChatState:
    changed = replace(chat, timezone=zone)
    return replace(changed, next_due_at=next_due(changed, now, defaults))


def restarted(chat: ChatState, now: datetime, defaults: ChatDefaults) -> ChatState:
    """Start the article over; a subscription goes on from the next delivery time."""
    changed = replace(
        chat,
        progress=0,
        read_mask=0,
        finished=False,
        failures=0,
        started_at=None,
        finished_at=None,
    )
    return replace(changed, next_due_at=next_due(changed, now, defaults))


# --- reading ---------------------------------------------------------------------------------


def opened(chat: ChatState, number: int, now: datetime, defaults: ChatDefaults) -> ChatState:
    """Return the chat after section ``number`` was shown to it, by whatever path.

    Opening the chat's next unread section counts like /next: the place moves on, so the
    ✓ marks, /progress, /next and the daily push agree. Any other section is marked read
    and the place stays until the sections before it are read too.
    """
    mask = chat.read_mask | 1 << (number - 1)
    progress = caught_up(chat.progress, mask)
    epoch = int(now.timestamp())
    changed = replace(
        chat,
        read_mask=mask,
        progress=progress,
        started_at=chat.started_at if chat.started_at is not None else epoch,
    )
    if progress > chat.progress and read_all(changed, defaults):
        # Read to the end: nothing more is due, and the finish line has its day.
        changed = replace(changed, next_due_at=None, finished_at=chat.finished_at or epoch)
    return changed


def stopped_by_block(chat: ChatState | None) -> bool:
    """Tell whether a reader blocked the bot while subscribed (their delivery stopped then).

    Blocking ends a private chat's subscription: the chat stays subscribed on paper, but
    inactive, until the reader comes back and ``rejoined`` ends it for good.
    """
    return chat is not None and chat.private and chat.subscribed and not chat.active


def rejoined(chat: ChatState, now: datetime, defaults: ChatDefaults) -> ChatState:
    """Reactivate a chat the bot can post in again.

    A group's or channel's kept subscription resumes: leaving clears next_due_at so nothing
    is sent to a chat the bot left; without resuming here, a re-added group would stay
    subscribed on paper but never get another section. A reader who blocked the bot ended
    theirs: it stays ended until they choose to resume it (delivery time kept).
    """
    changed = replace(chat, active=True, failures=0, parked_reason=None, parked_at=None)
    if stopped_by_block(chat):
        return replace(changed, subscribed=False, next_due_at=None)
    if changed.next_due_at is None:
        changed = replace(changed, next_due_at=next_due(changed, now, defaults))
    return changed


def left(chat: ChatState) -> ChatState:
    """Stop posting to a chat the bot lost access to; its settings are kept."""
    return replace(chat, active=False, next_due_at=None, claim_token=None)


def is_basic_group(chat_id: int) -> bool:
    """Tell whether an id is a basic group's: the only kind of chat that can migrate."""
    return -1_000_000_000_000 < chat_id < 0


def merged(group: ChatState, supergroup: ChatState, new_id: int) -> ChatState:
    """Return the supergroup's state after a group moved into it: nothing is lost.

    The supergroup's row exists when an update reached it before the move was recorded;
    whatever it has set wins, the group's state fills the rest, and reading only moves on.
    A delivery claimed for the group carries on under the new id.
    """
    subscription = supergroup if supergroup.subscribed else group
    further = group if group.progress >= supergroup.progress else supergroup
    return replace(
        group,
        chat_id=new_id,
        kind=SUPERGROUP,
        title=supergroup.title or group.title,
        script=supergroup.script or group.script,
        progress=max(group.progress, supergroup.progress),
        read_mask=group.read_mask | supergroup.read_mask,
        active=True,
        subscribed=subscription.subscribed,
        delivery_time=subscription.delivery_time,
        timezone=subscription.timezone or supergroup.timezone or group.timezone,
        quiet=subscription.quiet,
        thread_id=subscription.thread_id,
        paused_until=subscription.paused_until,
        reading_days=subscription.reading_days,
        next_due_at=subscription.next_due_at,
        finished=further.finished,
        failures=0,
        claim_token=group.claim_token or supergroup.claim_token,
    )


def with_section_shown(chat: ChatState, section: int) -> ChatState:
    """Return the chat with section ``section`` marked as shown; its place stays."""
    return replace(chat, read_mask=chat.read_mask | 1 << (section - 1))


def with_script(chat: ChatState, script: Script) -> ChatState:
    return replace(chat, script=script)


def with_quiet(chat: ChatState, quiet: bool) -> ChatState:
    return replace(chat, quiet=quiet)


def with_onthisday(chat: ChatState, wanted: bool) -> ChatState:
    return replace(chat, onthisday=wanted)


def without_thread(chat: ChatState) -> ChatState:
    return replace(chat, thread_id=None)
