"""Every UI string, in both scripts, against words that belong to the other side of the strait.

Simplified readers get mainland wording, traditional readers Taiwan wording (OpenCC s2twp,
then bot.content.taiwan_wording). A slip (搜索 to a Taiwan reader, 推播 to a mainland one) is
caught here for every string the bot can send, so it cannot come back.
"""

from __future__ import annotations

import re

import pytest

from bot import render
from bot.content import Library
from bot.content.scripts import Script
from bot.render import texts
from bot.render.texts import t

# Words a Taiwan reader would not use (each with what they say instead, for the reader of
# a failure). Checked in every traditional string.
MAINLAND_ONLY = {
    "搜索": "搜尋",
    "悉尼": "雪梨",
    "新西蘭": "紐西蘭",
    "執行": "運作 (a service running)",
    "點擊": "點選",
    "點按": "點選",
    "直接發": "直接輸入",
    "發數字": "輸入數字",
    "拉黑": "封鎖",
    "屏蔽": "封鎖",
    "視頻": "影片",
    "信息": "訊息",
    "軟件": "軟體",
    "默認": "預設",
    "設置": "設定",
    "用戶": "使用者",
    "屏幕": "螢幕",
    "網絡": "網路",
    "鏈接": "連結",
    "菜單": "選單",
    "賬號": "帳號",
    "推送": "推播",
    "私聊": "私訊",
    "關鍵詞": "關鍵字",
    "報道": "報導",
    "時間線": "時間軸",
}
# Words a mainland reader would not use. Checked in every simplified string.
TAIWAN_ONLY = {
    "搜寻": "搜索",
    "雪梨": "悉尼",
    "纽西兰": "新西兰",
    "点选": "点击",
    "点按": "点击",
    "推播": "推送",
    "私讯": "私聊",
    "封锁": "拉黑",
    "萤幕": "屏幕",
    "软体": "软件",
    "网路": "网络",
    "视讯": "视频",
    "预设": "默认",
    "资料库": "数据库",
    "报导": "报道",
    "时间轴": "时间线",
    "关键字": "关键词",
}


def every_ui_string(script: Script) -> list[str]:
    """Every string the bot can send a reader in ``script``: templates, help, menu."""
    found = [t(template, script) for template in texts.templates()]
    found.append(texts.help_text(script, "SerialBot"))
    found += [t(desc, script) for _, desc, _ in texts.COMMANDS]
    return found


@pytest.mark.parametrize(
    ("script", "wrong"), [(Script.TRADITIONAL, MAINLAND_ONLY), (Script.SIMPLIFIED, TAIWAN_ONLY)]
)
def test_no_string_uses_the_other_sides_words(script: Script, wrong: dict[str, str]) -> None:
    strings = every_ui_string(script)
    assert len(strings) > 150  # the scan covers the whole catalog
    slips = [(word, text) for text in strings for word in wrong if word in text]
    assert slips == [], [f"{word} → {wrong[word]}: {text[:60]}" for word, text in slips]


def test_the_lists_catch_the_slips_they_name() -> None:
    """The scan would have caught the slips a reader found (each list entry can fail)."""
    slipped = ["直接發一個詞，就能在全文中搜索", "悉尼時間", "已執行 3 天", "點按任一節"]
    assert all(any(word in text for word in MAINLAND_ONLY) for text in slipped)
    assert any(word in "点按任一节打开" for word in TAIWAN_ONLY)


def test_the_taiwan_wording_a_reader_asked_for_is_there() -> None:
    catalog = "\n".join(every_ui_string(Script.TRADITIONAL))
    for word in ("搜尋", "雪梨", "已運作", "輸入", "點選"):
        assert word in catalog, word
    simplified = "\n".join(every_ui_string(Script.SIMPLIFIED))
    assert "点击" in simplified


# A date or time placeholder, and a CJK character or full-width mark beside it with a space.
_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_SPACED_DATE = re.compile(rf"{_CJK} \{{(label|today)\}}|\{{(label|today)\}} {_CJK}")


@pytest.mark.parametrize("script", list(Script))
def test_no_half_width_spaces_around_dates_in_sentences(script: Script) -> None:
    spaced = [text for text in every_ui_string(script) if _SPACED_DATE.search(text)]
    assert spaced == []


@pytest.mark.parametrize("script", list(Script))
def test_section_titles_take_their_own_marks_never_nested(
    library: Library, script: Script
) -> None:
    for section in library.article(script).sections:
        shown = render.section_title(section.title, script)
        assert "《" not in shown and "》" not in shown
        assert not re.match(r"^[〈“「][“「]", shown), shown  # 《“狠话”》 and its cousins
        if script is Script.TRADITIONAL and not section.title.startswith("“"):
            assert shown == f"〈{section.title}〉"
