"""The settings' messages: a time zone's label, the choice of script, confirming a reset."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot.content.scripts import Script
from bot.render import callback_data as cb
from bot.render import texts
from bot.render.keyboards import button
from bot.render.rendered import Rendered
from bot.render.texts import t
from bot.rules import zones
from bot.rules.schedule import EVERY_DAY, WEEKDAYS, WEEKEND


def zone_label(zone: ZoneInfo, script: Script) -> str:
    """Return a zone as readers know it: 北京时间（Asia/Shanghai）, UTC+8, or its IANA name."""
    name = texts.ZONE_NAMES.get(zone.key)
    if name is not None:
        return t(texts.ZONE_LABEL, script, name=t(name, script), key=zone.key)
    return zones.offset_name(zone) or zone.key


def script_choice(script: Script) -> Rendered:
    name = texts.SCRIPT_NAME[script]
    buttons = [button(texts.BTN_SWITCH[s], cb.ChooseScript(s)) for s in Script]
    return Rendered(
        t(texts.SCRIPT_CHOOSE, script, script_name=t(name, script)),
        InlineKeyboardMarkup([buttons]),
    )


def reset_confirm(script: Script) -> Rendered:
    return Rendered(
        t(texts.RESET_CONFIRM, script),
        InlineKeyboardMarkup(
            [
                [
                    button(t(texts.BTN_RESET_YES, script), cb.ConfirmReset(True)),
                    button(t(texts.BTN_RESET_NO, script), cb.ConfirmReset(False)),
                ]
            ]
        ),
    )


def blocked_return(at: time, script: Script) -> Rendered:
    """Tell a reader back after blocking the bot that delivery stopped; one button resumes."""
    hhmm = f"{at:%H:%M}"
    resume = button(t(texts.BTN_RESUME, script, time=hhmm), cb.SubscribeAt(at))
    return Rendered(t(texts.BLOCKED_RETURN, script, time=hhmm), InlineKeyboardMarkup([[resume]]))


def days_label(days: int, script: Script) -> str:
    """Return reading days as words: 每天, 周一至周五, 周末, or 每周一、三、五."""
    named = {
        EVERY_DAY: texts.DAYS_EVERY,
        WEEKDAYS: texts.DAYS_WEEKDAYS,
        WEEKEND: texts.DAYS_WEEKEND,
    }
    if days in named:
        return t(named[days], script)
    names = texts.WEEKDAY_NAMES
    listed = "、".join(names[d] for d in range(7) if days >> d & 1)
    return t(texts.DAYS_LIST, script, days=listed)


def day_label(day: date, script: Script) -> str:
    """Return a local day with its weekday: 3月5日（周四）, 3月5日（週四）."""
    weekday = t(texts.WEEKDAY_FULL, script).split(",")[day.weekday()]
    return t(texts.RESUME_DAY, script, month=day.month, day=day.day, weekday=weekday)
