"""Taiwan wording for the traditional UI: reviewed replacements applied after OpenCC ``s2twp``.

``s2twp`` converts words, not only characters, but it has no entry for some mainland words
(关键词, 推送, 私聊, 清零) and a few that read like software menus in Taiwan (检视).
This table is the one place where a Taiwan editor's corrections live;
``bot.content.scripts`` applies it after ``s2twp``. It is Python rather than JSON so each entry
carries its reason beside it and the table is typed and reviewed like code. The bot serves the
catalog generated from it ahead of time (``python -m bot.render.texts``), so it converts
nothing while it runs.

Each entry replaces a phrase of the converted text, in order. ``after`` never contains
``before``, so applying the table twice changes nothing more. Keep the table short: prefer
rewording the simplified template when the simplified wording is itself unnatural.

For 台/臺 the catalog uses 臺, the Ministry of Education's standard form and what ``s2twp``
already gives (平臺, 後臺); no entry is needed for it.
"""

from __future__ import annotations

from typing import NamedTuple


class Override(NamedTuple):
    before: str
    after: str
    why: str


OVERRIDES: tuple[Override, ...] = (
    Override("關鍵詞", "關鍵字", "Taiwan says 關鍵字 for a search keyword"),
    Override("推送", "推播", "a scheduled push to a phone is 推播 in Taiwan"),
    Override("私聊", "私訊", "a private chat with the bot is 私訊"),
    Override("清零", "歸零", "progress going back to zero is 歸零"),
    Override("報道", "報導", "the Taiwan standard form of the word for a news report"),
    Override("報導里", "報導裡", "s2twp leaves 里 (a mile) where 裡 (inside) is meant"),
    Override("檢視", "查看", "s2twp turns every 查看 into the menu word 檢視; readers say 查看"),
    Override("時間線", "時間軸", "a timeline is 時間軸 in Taiwan"),
    Override("命令", "指令", "a bot command is a 指令 in Taiwan software"),
    Override("聊天中", "聊天室中", "a Telegram chat is a 聊天室"),
    Override("群管理員", "群組管理員", "a Telegram group is a 群組"),
    Override("群裡", "群組裡", "a Telegram group is a 群組"),
    Override("搜索", "搜尋", "searching text is 搜尋 in Taiwan"),
    Override("悉尼", "雪梨", "Sydney is 雪梨 in Taiwan"),
    Override("執行", "運作", "s2twp makes 运行 (a service running) 執行 (to execute)"),
    Override("直接發", "直接輸入", "typing a word to the bot is 輸入, not 發"),
    Override("發數字", "輸入數字", "typing a number to the bot is 輸入, not 發"),
    Override("也可以發", "也可以輸入", "typing a word to the bot is 輸入, not 發"),
    Override("拉黑", "封鎖", "blocking someone on a messenger is 封鎖 in Taiwan"),
    Override("1 周", "1 週", "a week: s2twp leaves a lone 周, which is also a surname"),
    Override("“", "「", "Taiwan typesetting quotes with corner brackets"),
    Override("”", "」", "Taiwan typesetting quotes with corner brackets"),
)


def apply(text: str, overrides: tuple[Override, ...] = OVERRIDES) -> str:
    """Return s2twp output with the Taiwan editor's replacements applied in order."""
    for override in overrides:
        text = text.replace(override.before, override.after)
    return text
