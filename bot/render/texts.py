"""Every UI string, once, authored in simplified Chinese; traditional readers get Taiwan wording.

``/help`` and the command menu are generated from COMMANDS. The traditional forms are made
ahead of time into ``texts_zh_hant.json`` by ``python -m bot.render.texts``: OpenCC ``s2twp``, then
the reviewed replacements of ``bot.content.taiwan_wording``. A test keeps the file equal to that output,
so it cannot drift, and the bot starts without loading a converter.
"""

from __future__ import annotations

import json
import sys
from functools import cache, lru_cache
from pathlib import Path

from bot.content.scripts import Script, ui

CATALOG = Path(__file__).with_name("texts_zh_hant.json")

# (command, one-line description, shown in groups too)
COMMANDS: tuple[tuple[str, str, bool], ...] = (
    ("next", "阅读下一节", True),
    ("toc", "目录：点击任一节打开", True),
    ("read", "/read N 阅读第 N 节（读到下一节时算作进度）", True),
    ("quote", "/quote [N|关键词] 语录：随机、按编号或按关键词", True),
    ("date", "/date [日期] 时间线，或某一天发生了什么", True),
    ("progress", "阅读进度和下次推送时间", True),
    ("subscribe", "/subscribe [HH:MM] [静音] [一至五] 定时推送下一节，可选推送日", True),
    ("unsubscribe", "停止每日推送", True),
    ("pause", "/pause [天数] 暂停每日推送，进度不变", True),
    ("resume", "结束暂停，恢复每日推送", True),
    ("timezone", "/timezone 城市 设置时区，例如 /timezone 台北", True),
    ("script", "/script [简|繁] 选择简体或繁体", True),
    ("quiz", "/quiz 猜猜这句话是哪天说的；/quiz 排行 看谁答对最多", True),
    ("card", "/card [N] 把语录做成图片；回复一节并引用一段，把那一段做成图片", True),
    ("saved", "收藏的语录和段落", True),
    ("history", "每一节是哪天读到的", True),
    ("onthisday", "/onthisday [开|关] 报道中的日子到来时推送“几年前的今天”", True),
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
    "你好！我会把这篇报道分成 {count} 节，一节一节地连载给你：\n\n"
    "<b>{title}</b>\n{byline}\n\n"
    "• /next 阅读下一节（每节约 {minutes} 分钟）\n"
    "• {subscription}\n"
    "• /quote 查看报道中的 {quotes} 条语录，/date 按日期查看事件\n"
    "• 直接发一个词，就能在全文中搜索\n\n"
    "现在用的是{script_name}，可以随时切换。"
)
WELCOME_BACK = (
    "欢迎回来！{gap}你读到第 {n} 节（共 {total} 节）。\n\n{recap}\n\n"
    "点“继续阅读”接着读第 {next} 节，或者看看目录。"
)
WELCOME_BACK_DONE = "欢迎回来！全文 {total} 节你都读完了。想再读一遍，或者看看语录？"
WELCOME_GROUP = (
    "大家好！我会在这个群里逐节连载报道《{title}》（共 {count} 节）。\n"
    "任何人都可以用 /next、/toc、/quote、/date 阅读；"
    "管理员可以用 /subscribe HH:MM 让我每天定时推送下一节，用 /timezone 设置时区。"
)
SCRIPT_NAME = {Script.SIMPLIFIED: "简体", Script.TRADITIONAL: "繁体"}
HELP_HEADER = "可用命令："
HELP_FOOTER = "在任何聊天中输入 @{bot} 加关键词，即可分享语录。"

BTN_NEXT = "下一节 ▶"
BTN_CONTINUE = "继续阅读 ▶"
BTN_RESTART = "从头再读"
BTN_BACK_TOC = "◀ 返回目录"
BTN_BACK_TIMELINE = "◀ 返回时间线"
BTN_OPEN_SECTION = "打开第 {n} 节"
BTN_TIME = "每天 {time}"
BTN_OTHER_TIME = "其他时间…"
BTN_QUIZ = "猜日期"
BTN_QUIZ_AGAIN = "再来一题"
BTN_CARD = "做成图片"
BTN_SHARE_CARD = "分享一张语录图片"
BTN_SWITCH = {Script.SIMPLIFIED: "简体", Script.TRADITIONAL: "繁體"}
BTN_TOC = "目录"
BTN_BEGIN = "开始阅读 ▶"
BTN_SUBSCRIBE = "每天推送"
BTN_QUOTES = "语录"
BTN_TIMELINE = "时间线"
BTN_SECTION = "{mark} {n}. {title} · {minutes} 分钟"
BTN_QUOTE = "语录 {n}"
BTN_READ_PRIVATE = "私聊阅读这一节"
BTN_RESET_YES = "确定，从头开始"
BTN_RESET_NO = "取消"
BTN_QUIET_ON = "静音推送"
BTN_QUIET_OFF = "有声推送"

SECTION_HEADER = "第 {n}/{total} 节 · {title}"
SECTION_TIME = "约 {minutes} 分钟读完"
SECTION_CREDIT = "<b>《{title}》</b>\n{byline}"
RECAP = "<b>前情提要</b>：上回读到第 {n} 节{title}{when}："
RECAP_WHEN = "，从{label}讲起"
DIGEST_LINE = "每日连载 ·《{title}》"
SECTION_DATES = "本节提到的日期："
ALL_READ = "你已经读完全部 {total} 节了。可以从头再读，或者打开目录重读某一节。"

TOC_HEADER = "<b>目录</b>（✓ 已读 · ▶ 下一节）\n点击任一节打开。"
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
QUOTE_FOUND = "语录原话中有“{word}”的（{count} 条）："
QUOTE_FOUND_OCCASION = "只在讲话场合的说明里提到“{word}”的（{count} 条）："
SEARCH_NONE = "全文中没有找到“{word}”。试试别的词，或者看看目录、时间线。"
SEARCH_HEADER = "在全文中找到“{word}”："
SEARCH_TITLE = "• 标题：{title}"
SEARCH_SECTION = "• 第 {n} 节{title}：{sentence}"
SEARCH_QUOTES = "• 语录原话：{numbers}"
SEARCH_OCCASIONS = "• 只在讲话场合的说明里：{numbers}"
GREETING = (
    "你好！直接发一个词就能搜索全文，发数字打开那一节或那条语录。"
    "也可以发“下一节”“目录”“语录”，或者 /help 查看全部命令。"
)
BTN_QUOTE_DATE = "当天：{label}"
BTN_QUOTE_SECTION = "出处：见第 {n} 节"

TIMELINE_HEADER = "<b>时间线</b>\n报道中的 {count} 天，点击一天看看发生了什么："
DATE_HEADER = "<b>{label}</b>"
DATE_QUOTES = "当天的语录："
DATE_UNKNOWN = "报道中没有提到 {arg}。报道写到的是下面这几天："
DATE_NOT_A_DATE = (
    "看不懂“{arg}”这个日期。可以这样写：2月16日、2/16、16日。报道写到的是下面这几天："
)
DATE_EVENT_SOURCE = "（第 {n} 节）"

SCRIPT_CHOOSE = "现在用的是{script_name}。请选择简体或繁体："
SCRIPT_SET = "好的，以后用{script_name}回复你。"
SCRIPT_SET_GROUP = "这里的定时推送改用{script_name}。"
SCRIPT_UNKNOWN = "看不懂“{arg}”。请发送 /script 简 或 /script 繁。"

PROGRESS = "阅读进度：{done}/{total} 节\n{bar} {percent}%"
PROGRESS_NEXT = "下次推送：{when}，{tz}"
STREAK = "已经连续阅读 {days} 天（最长 {best} 天）。"
STREAK_START = "今天读一节，就开始连续阅读的记录。"
PROGRESS_NOT_SUBSCRIBED = "尚未订阅每日推送，发送 /subscribe 开始。"
PROGRESS_FINISHED = "全文都读完了，每日推送已经停下。想再读一遍，可以从头开始。"

RESET_CONFIRM = "确定要从头开始吗？阅读进度会清零。"
RESET_DONE = "已从头开始，进度已归零。"
RESET_CANCELLED = "已取消，进度保持不变。"

SUBSCRIBED = "已订阅：{days} {time} 推送下一节{quiet}，时间按{tz}。下次推送：{when}。"
SUBSCRIBE_CHOOSE = "每天几点推送下一节？时间按{tz}计算。"
SUBSCRIBE_OTHER = "发送 /subscribe 加上时间，例如 /subscribe 06:30 或 /subscribe 21:30 静音。"
SUBSCRIBE_FINISHED = "全文 {total} 节都读完了，没有可以推送的了。想从头再读一遍吗？"
SUBSCRIBED_QUIET = "，静音送达"
SUBSCRIBE_BAD_ARG = (
    "看不懂“{arg}”。时间请用 24 小时制，例如 /subscribe 08:00；要静音送达，加上“静音”："
    "/subscribe 21:30 静音；只在某些日子推送，加上“一至五”“周末”或“一三五”。"
)
QUIET_NOW_ON = "好的，之后的推送将静音送达。"
QUIET_NOW_OFF = "好的，之后的推送会有提示音。"
UNSUBSCRIBED = "已停止每日推送。随时可以用 /subscribe 重新订阅。"
NOT_SUBSCRIBED = "目前没有订阅每日推送，无需停止。"
TIMEZONE_SET = "时区已设为{tz}，现在当地时间 {local}。{next}"
TIMEZONE_CURRENT = "现在的时区：{tz}，当地时间 {local}。要更改，发送 /timezone 加城市名或时差，例如 /timezone 台北、/timezone 伦敦、/timezone UTC+8，或点下面的按钮。"
TIMEZONE_BAD = "看不懂“{arg}”这个时区。可以写城市名（北京、台北、香港、东京、伦敦、纽约）、时差（UTC+8）或时区名称（Asia/Taipei），也可以点下面的按钮："
NEXT_DELIVERY = "下次推送：{when}。"

CHANNEL_ADMINS_ONLY = "只有频道管理员可以使用频道消息下面的按钮。"
ADMINS_ONLY = "抱歉，只有群管理员可以更改这项设置。"
UNKNOWN_COMMAND = "我不认识这个命令。发送 /help 查看全部命令。"
NOT_TEXT = "我只看得懂命令。发送 /help 查看全部命令。"
ERROR = "抱歉，出了点问题，请稍后再试。"
STORE_UNAVAILABLE = "抱歉，现在无法读取或保存你的进度和设置，请过一会儿再试。"

QUIZ_QUESTION = "这句话是哪天说的？\n{quote}"
QUIZ_EXPLANATION = "{label}：{occasion}"
QUIZ_RIGHT = "答对了，是{label}！你一共答对 {right}/{answered} 题。"
QUIZ_WRONG = "差一点：这句话是{label}说的。你一共答对 {right}/{answered} 题。"
QUIZ_BOARD_HEADER = "<b>猜日期排行榜</b>"
QUIZ_BOARD_LINE = "{rank}. {name}：答对 {right}/{answered} 题"
QUIZ_BOARD_EMPTY = "这里还没有人答过题。发送 /quiz 出一题吧。"
QUIZ_SOMEONE = "一位读者"

ONTHISDAY_HEADER = "<b>{years}年前的今天</b> · {label}"
ONTHISDAY_HEADER_NO_YEAR = "<b>报道里的这一天</b> · {label}"
ONTHISDAY_ON = "好的，报道中的日子到来时，会推送“几年前的今天”卡片。"
ONTHISDAY_OFF = "好的，不再推送“几年前的今天”卡片。"
ONTHISDAY_STATE = "“几年前的今天”卡片现在是{state}的。发送 /onthisday 开 或 /onthisday 关 来更改。"
ONTHISDAY_STATE_ON = "开启"
ONTHISDAY_STATE_OFF = "关闭"
DATE_TODAY_NEAREST = "今天（{today}）不是报道中的日子，离它最近的是{label}。"

FINISH = (
    "<b>—— 全文完 ——</b>\n用了 {days} 天，读了 {read}/{total} 节。{quiz}\n"
    "可以从头再读，也可以看看目录和语录。"
)
FINISH_QUIZ = "猜日期答对 {right}/{answered} 题。"
FINISH_NO_QUIZ = "还没试过猜日期？来一题吧。"

CARD_CAPTION = "语录 {n} · {label}\n在机器人里读全文：{link}"
CARD_UNAVAILABLE = "抱歉，现在做不了图片：服务器上缺少中文字体。可以用 /quote {n} 看文字版。"
CARD_RANGE = "没有这条语录。请输入 1 到 {total} 之间的编号，例如 /card 4。"

# --- reading features, round two: pause, reading days, saving, passage cards, history ------
PUSH_PREVIEW = "今天：第 {n} 节〈{title}〉· 约 {minutes} 分钟"

PAUSED = "好的，暂停每日推送，{day}恢复，进度不变。"
PAUSED_OPEN = "好的，暂停每日推送，直到你发送 /resume，进度不变。"
PAUSE_NEXT = "恢复后第一次推送：{when}，{tz}。"
PAUSE_NOT_SUBSCRIBED = "目前没有订阅每日推送，无需暂停。发送 /subscribe 开始订阅。"
PAUSE_BAD = "看不懂“{arg}”。请写暂停的天数，例如 /pause 3（1 到 {max} 天），或点下面的按钮。"
RESUMED = "每日推送已恢复，进度不变。下次推送：{when}，{tz}。"
RESUME_NOT_PAUSED = "每日推送没有暂停。"
RESUME_DAY = "{month}月{day}日（{weekday}）"
WEEKDAY_FULL = "周一,周二,周三,周四,周五,周六,周日"  # one template: converted as a whole
BTN_PAUSE_DAYS = "{n} 天"
BTN_PAUSE_WEEK = "1 周"
BTN_PAUSE_OPEN = "直到我回来"
BTN_RESUME = "现在恢复"
WEEKDAY_NAMES = "一二三四五六日"
DAYS_EVERY = "每天"
DAYS_WEEKDAYS = "周一至周五"
DAYS_WEEKEND = "周末"
DAYS_LIST = "每周{days}"
DAYS_SET = "好的，以后{days}推送。"
BTN_DAYS_EVERY = "每天"
BTN_DAYS_WEEKDAYS = "一至五"
BTN_DAYS_WEEKEND = "周末"
BTN_CHOSEN = "✓ {label}"
PROGRESS_DAYS = "推送日：{days} {time}"
PROGRESS_PAUSED = "推送已暂停，{day}恢复。"
PROGRESS_PAUSED_OPEN = "推送已暂停，发送 /resume 恢复。"

BTN_SAVE = "☆ 收藏"
BTN_SAVED = "★ 已收藏"
BTN_COPY = "复制"
SAVED_NOW = "已收藏。发送 /saved 查看全部收藏。"
UNSAVED_NOW = "已取消收藏。"
SAVED_HEADER = "<b>你的收藏</b>（最新的在前，共 {count} 条）"
SAVED_QUOTE = "{i}. 语录 {n}（{label}）：{text}"
SAVED_SECTION = "{i}. 第 {n} 节〈{title}〉"
SAVED_PASSAGE = "{i}. 第 {n} 节〈{title}〉的一段：{text}"
SAVED_EMPTY = (
    "还没有收藏。点语录、某一节或段落图片下面的“☆ 收藏”，就能把它收进这里；发送 /saved 随时查看。"
)
SAVED_MORE = "还有 {more} 条更早的收藏。"
BTN_SAVED_OPEN = "{i}. 打开"
BTN_SAVED_CARD = "图片"
BTN_SAVED_REMOVE = "移除"
SAVED_REMOVED = "已从收藏中移除。"
COPY_TEXT = "“{text}”\n—— {label}，{occasion}\n《{title}》{byline}"

PASSAGE_CAPTION = "第 {n} 节〈{title}〉"
CARD_LINK = '在 <a href="{link}">@{bot}</a> 阅读全文'
CARD_UNAVAILABLE_PASSAGE = (
    "抱歉，现在做不了图片：服务器上缺少中文字体。可以用 /read {n} 看这一节的文字。"
)
PASSAGE_NOT_A_SECTION = (
    "要把一段做成图片：长按某一节的消息，选“回复”，引用其中一段，然后发送 /card。"
    "也可以用 /card N 把第 N 条语录做成图片。"
)

HISTORY_HEADER = "<b>阅读记录</b>（{tz}）"
HISTORY_LINE = "第 {n} 节〈{title}〉：{day}{how}"
HISTORY_DELIVERED = "（每日推送）"
HISTORY_READ = "（自己读）"
HISTORY_UNREAD = "第 {n} 节〈{title}〉：还没读"
HISTORY_EMPTY = "还没有读过任何一节。发送 /next 开始阅读，或 /subscribe 每天推送。"
HISTORY_DAY = "{month}月{day}日"

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

# --- parked chats (/stats): digests stopped after repeated refusals ---
STATS_PARKED = "暂停推送：{parked} 个聊天（推送屡次被拒，聊天再次发言时恢复）"
STATS_PARKED_REASON = "最近一次的原因：{reason}"

# Time zones readers know by a common name; the IANA name follows it in replies.
ZONE_NAMES = {
    "Asia/Shanghai": "北京时间",
    "Asia/Taipei": "台北时间",
    "Asia/Hong_Kong": "香港时间",
    "Asia/Macau": "澳门时间",
    "Asia/Singapore": "新加坡时间",
    "Asia/Kuala_Lumpur": "吉隆坡时间",
    "Asia/Tokyo": "东京时间",
    "Asia/Seoul": "首尔时间",
    "Asia/Bangkok": "曼谷时间",
    "America/New_York": "纽约时间",
    "America/Los_Angeles": "洛杉矶时间",
    "America/Vancouver": "温哥华时间",
    "America/Toronto": "多伦多时间",
    "Europe/London": "伦敦时间",
    "Europe/Paris": "巴黎时间",
    "Europe/Berlin": "柏林时间",
    "Australia/Sydney": "悉尼时间",
    "Australia/Melbourne": "墨尔本时间",
    "UTC": "协调世界时",
}
ZONE_LABEL = "{name}（{key}）"

INLINE_TITLE = "语录 {n}（{label}）"
INLINE_SWITCH_PM = "打开机器人阅读全文"


# --- a reader's week: blocked and back, the recap, ways on from dead ends -------------------
BLOCKED_RETURN = (
    "欢迎回来！你之前把机器人拉黑了，每天 {time} 的推送从那时起就停了。想按原来的时间恢复吗？"
)
BTN_RESUME = "恢复每天 {time} 推送"
WELCOME_GAP = "上次来是 {days} 天前。"
WELCOME_GAP_YESTERDAY = "上次来是昨天。"
WELCOME_SUBSCRIBE = "/subscribe 每天 {time} 自动推送下一节"
WELCOME_SUBSCRIBED = "已订阅：每天 {time} 推送下一节（/unsubscribe 停止）"
ONTHISDAY_NEEDS_SUBSCRIPTION = "这些卡片随每日推送一起送达：订阅以后，报道中的日子到来时就会收到。"
GROUP_RESUMED = "这个群的每日推送照常继续，下次推送：{when}，{tz}。"


def templates() -> list[str]:
    """Return every UI template of this module that readers see converted."""
    found: list[str] = []
    for name, value in sorted(globals().items()):
        if name.isupper() and isinstance(value, str):
            found.append(value)
    found += [desc for _, desc, _ in COMMANDS]
    found += list(SCRIPT_NAME.values())
    found += list(ZONE_NAMES.values())
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
