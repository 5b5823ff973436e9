"""Every UI string, once, authored in simplified Chinese; traditional readers get Taiwan wording.

``/help`` and the command menu are generated from COMMANDS. The traditional forms are made
ahead of time into ``texts_zh_hant.json`` by ``python -m bot.texts``: OpenCC ``s2twp``, then
the reviewed replacements of ``bot.texts_taiwan``. A test keeps the file equal to that output,
so it cannot drift, and the bot starts without loading a converter.
"""

from __future__ import annotations

import json
import sys
from functools import cache, lru_cache
from pathlib import Path

from bot.scripts import Script, ui

CATALOG = Path(__file__).with_name("texts_zh_hant.json")

# (command, one-line description, shown in groups too)
COMMANDS: tuple[tuple[str, str, bool], ...] = (
    ("next", "阅读下一节", True),
    ("toc", "目录：点按任一节打开", True),
    ("read", "/read N 阅读第 N 节（不改变进度）", True),
    ("quote", "/quote [N|关键词] 语录：随机、按编号或按关键词", True),
    ("date", "/date [日期] 时间线，或某一天发生了什么", True),
    ("progress", "阅读进度和下次推送时间", True),
    ("subscribe", "/subscribe [HH:MM] [quiet] 每天定时推送下一节", True),
    ("unsubscribe", "停止每日推送", True),
    ("timezone", "/timezone 地区/城市 设置时区", True),
    ("script", "/script [简|繁] 选择简体或繁体", True),
    ("reset", "从头开始阅读", True),
    ("help", "全部命令", True),
    ("start", "开始", False),
)

BOT_DESCRIPTION = (
    "逐节连载一篇新闻报道：《{title}》。每天推送一节，或随时用 /next 阅读下一节；"
    "可查语录、查日期，简体、繁体任选。"
)
BOT_SHORT_DESCRIPTION = "逐节连载一篇新闻报道，每天一节，简繁任选。"

WELCOME = (
    "你好！我会把这篇报道分成 {count} 节，一节一节地连载给你：\n"
    "<b>{title}</b>\n\n"
    "• /next 阅读下一节\n"
    "• /subscribe 每天 {time} 自动推送下一节\n"
    "• /quote 查看报道中的 {quotes} 条语录，/date 按日期查看事件\n"
    "• /script 切换简体或繁体\n\n"
    "现在用的是{script_name}。"
)
WELCOME_GROUP = (
    "大家好！我会在这个群里逐节连载报道《{title}》（共 {count} 节）。\n"
    "任何人都可以用 /next、/toc、/quote、/date 阅读；"
    "管理员可以用 /subscribe HH:MM 让我每天定时推送下一节，用 /timezone 设置时区。"
)
SCRIPT_NAME = {Script.SIMPLIFIED: "简体", Script.TRADITIONAL: "繁体"}
HELP_HEADER = "可用命令："
HELP_FOOTER = "在任何聊天中输入 @{bot} 加关键词，即可分享语录。"

BTN_NEXT = "下一节 ▶"
BTN_SWITCH = {Script.SIMPLIFIED: "简体", Script.TRADITIONAL: "繁體"}
BTN_TOC = "目录"
BTN_BEGIN = "开始阅读 ▶"
BTN_SUBSCRIBE = "每天推送"
BTN_QUOTES = "语录"
BTN_TIMELINE = "时间线"
BTN_SECTION = "第 {n} 节：{title}"
BTN_QUOTE = "语录 {n}"
BTN_READ_PRIVATE = "私聊阅读这一节"
BTN_RESET_YES = "确定，从头开始"
BTN_RESET_NO = "取消"
BTN_QUIET_ON = "静音推送"
BTN_QUIET_OFF = "有声推送"

SECTION_HEADER = "第 {n}/{total} 节 · {title}"
SECTION_DATES = "本节提到的日期："
END_OF_ARTICLE = "全文完。你已经读完全部 {total} 节。想从头再读，发送 /reset。"
END_APPENDED = "—— 全文完。想从头再读，发送 /reset。"
ALL_READ = "你已经读完全部 {total} 节了。想从头再读，发送 /reset；也可以用 /read N 重读某一节。"

TOC_HEADER = "目录（✓ 已读）："
READ_USAGE = "请在 /read 后面写上节号，例如 /read 2（共 {total} 节）。"
# Two replies: a number the reader meant, or words we could not read (echoed as typed).
READ_RANGE = "没有第 {n} 节：全文共 {total} 节，请输入 1 到 {total} 之间的节号。"
READ_UNREADABLE = "看不懂“{arg}”。请输入 1 到 {total} 之间的节号，例如 /read 2。"

QUOTE_LINE = "<b>语录 {n}</b>（{label}）\n{text}\n\n<i>{occasion}</i>"
QUOTE_RANGE = "没有这条语录。请输入 1 到 {total} 之间的编号，或一个关键词。"
QUOTE_NONE = (
    "没有找到包含“{word}”的语录。试试别的关键词，或用 /quote 1 到 {total} 按编号查看，"
    "或发送 /quote 随机看一条。"
)
QUOTE_FOUND = "包含“{word}”的语录（{count} 条）："
BTN_QUOTE_DATE = "当天：{label}"
BTN_QUOTE_SECTION = "出处：第 {n} 节"

TIMELINE_HEADER = "时间线（点按日期查看当天发生了什么）："
DATE_HEADER = "<b>{label}</b>"
DATE_QUOTES = "当天的语录："
DATE_UNKNOWN = "报道中没有提到 {arg}。报道提到的日期：{known}。"
DATE_NOT_A_DATE = "看不懂“{arg}”这个日期。可以这样写：2月16日、2/16、02-16、16日、Feb 16。报道提到的日期：{known}。"
DATE_EVENT_SOURCE = "（第 {n} 节）"

SCRIPT_CHOOSE = "现在用的是{script_name}。请选择简体或繁体："
SCRIPT_SET = "好的，以后用{script_name}回复你。"
SCRIPT_SET_GROUP = "这里的定时推送改用{script_name}。"
SCRIPT_UNKNOWN = "看不懂“{arg}”。请发送 /script 简 或 /script 繁。"

PROGRESS = "阅读进度：{done}/{total} 节\n{bar} {percent}%"
PROGRESS_NEXT = "下次推送：{when}（{tz}）"
PROGRESS_NOT_SUBSCRIBED = "尚未订阅每日推送，发送 /subscribe 开始。"
PROGRESS_FINISHED = "已经读完全文，每日推送已暂停；发送 /reset 从头开始。"

RESET_CONFIRM = "确定要从头开始吗？阅读进度会清零。"
RESET_DONE = "已从头开始。发送 /next 阅读第 1 节。"
RESET_CANCELLED = "已取消，进度保持不变。"

SUBSCRIBED = "已订阅：每天 {time}（{tz}）推送下一节{quiet}。下次推送：{when}。"
SUBSCRIBED_QUIET = "，静音送达"
SUBSCRIBE_BAD_TIME = (
    "看不懂时间“{arg}”。请用 24 小时制 HH:MM，例如 /subscribe 08:00 或 /subscribe 21:30 quiet。"
)
QUIET_NOW_ON = "好的，之后的推送将静音送达。"
QUIET_NOW_OFF = "好的，之后的推送会有提示音。"
UNSUBSCRIBED = "已停止每日推送。随时可以用 /subscribe 重新订阅。"
NOT_SUBSCRIBED = "目前没有订阅每日推送，无需停止。"
TIMEZONE_SET = "时区已设为 {tz}（现在当地时间 {local}）。{next}"
TIMEZONE_CURRENT = "当前时区：{tz}（当地时间 {local}）。要更改，发送 /timezone 地区/城市，例如 /timezone Asia/Shanghai、/timezone America/New_York、/timezone Europe/London。"
TIMEZONE_BAD = "“{arg}”不是有效的时区名称。请用 IANA 时区名称，例如 Asia/Shanghai、Asia/Taipei、Asia/Hong_Kong、America/New_York、Europe/London。"
NEXT_DELIVERY = "下次推送：{when}。"

CHANNEL_ADMINS_ONLY = "只有频道管理员可以使用频道消息下面的按钮。"
ADMINS_ONLY = "抱歉，只有群管理员可以更改这项设置。"
UNKNOWN_COMMAND = "我不认识这个命令。发送 /help 查看全部命令。"
NOT_TEXT = "我只看得懂命令。发送 /help 查看全部命令。"
ERROR = "抱歉，出了点问题，请稍后再试。"
STORE_UNAVAILABLE = "抱歉，现在无法读取或保存你的进度和设置，请过一会儿再试。"

# /stats, for the operators listed in BOT_ADMIN_IDS only (not in any command menu).
STATS = (
    "<b>运行状态</b>\n"
    "聊天：私聊 {private} · 群组 {group} · 超级群组 {supergroup} · 频道 {channel}\n"
    "订阅：{subscribers}\n"
    "过去 24 小时的推送：成功 {delivered} · 失败 {failed} · 可能重复 {repeated}\n"
    "待推送：{backlog}，最久已等 {lag} 秒\n"
    "数据库：{database}，结构版本 {revision}\n"
    "版本 {version} · 已运行 {uptime}"
)
STATS_UPTIME = "{hours} 小时 {minutes} 分"

INLINE_TITLE = "语录 {n}（{label}）"
INLINE_SWITCH_PM = "打开机器人阅读全文"


def templates() -> list[str]:
    """Return every UI template of this module that readers see converted."""
    found: list[str] = []
    for name, value in sorted(globals().items()):
        if name.isupper() and isinstance(value, str):
            found.append(value)
    found += [desc for _, desc, _ in COMMANDS]
    found += list(SCRIPT_NAME.values())
    return sorted(set(found))


@cache
def _catalog() -> dict[str, str]:
    try:
        return dict(json.loads(CATALOG.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


@lru_cache(maxsize=2048)
def _converted(template: str, script: Script) -> str:
    if script is Script.TRADITIONAL:
        known = _catalog().get(template)
        if known is not None:
            return known
    return ui(template, script)  # a string missing from the catalog is converted live


def t(template: str, script: Script, /, **values: object) -> str:
    """Return a UI string in the reader's script, with values filled in unchanged.

    Values (article text, numbers, names) are inserted after conversion, so they are never
    converted twice and keep their own script.
    """
    text = _converted(template, script)
    return text.format(**values) if values else text


def help_text(script: Script, bot_username: str) -> str:
    lines = [t(HELP_HEADER, script)]
    for cmd, desc, _ in COMMANDS:
        text = t(desc, script)
        # Descriptions that show the usage already start with the command: don't repeat it.
        lines.append(text if text.startswith(f"/{cmd}") else f"/{cmd} — {text}")
    lines += ["", t(HELP_FOOTER, script, bot=bot_username)]
    return "\n".join(lines)


def generate_catalog() -> dict[str, str]:
    """Return the traditional catalog of every template, as the generator makes it."""
    return {template: ui(template, Script.TRADITIONAL) for template in templates()}


def write_catalog() -> None:
    """Write the traditional catalog of every template."""
    catalog = generate_catalog()
    CATALOG.write_text(
        json.dumps(catalog, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(catalog)} strings to {CATALOG.name}", file=sys.stderr)


if __name__ == "__main__":
    write_catalog()
