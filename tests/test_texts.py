"""Tests for the UI catalog: complete, generated (s2twp + reviewed overrides), Taiwan wording."""

from __future__ import annotations

import json
import string
import subprocess
import sys
from functools import cache

import opencc
import pytest

from bot.content import taiwan_wording as texts_taiwan
from bot.content.scripts import Script, to_simplified
from bot.render import texts


@cache
def converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def s2tw() -> opencc.OpenCC:
    # Characters only, Taiwan forms: text it leaves unchanged has no simplified-only character.
    return converter("s2tw")


def s2twp(template: str) -> str:
    """Return OpenCC's own Taiwan conversion of a template, before the reviewed overrides."""
    return str(converter("s2twp").convert(template))


def shipped() -> dict[str, str]:
    return dict(json.loads(texts.CATALOG.read_text(encoding="utf-8")))


def fields(template: str) -> list[str | None]:
    return [name for _, name, _, _ in string.Formatter().parse(template)]


def test_catalog_has_every_template() -> None:
    assert set(shipped()) == set(texts.templates()), "run: python -m bot.render.texts"


def test_catalog_is_what_the_generator_makes() -> None:
    """The shipped file equals s2twp plus the overrides of today's templates: it cannot drift."""
    assert shipped() == texts.generate_catalog(), "run: python -m bot.render.texts"
    for template, traditional in shipped().items():
        assert traditional == texts_taiwan.apply(s2twp(template))


@pytest.mark.parametrize("template", texts.templates())
def test_catalog_entry_has_no_simplified_only_character(template: str) -> None:
    traditional = shipped()[template]
    assert s2tw().convert(traditional) == traditional
    assert [c for c in traditional if s2tw().convert(c) != c] == []


@pytest.mark.parametrize("template", texts.templates())
def test_catalog_entry_keeps_placeholders(template: str) -> None:
    assert fields(shipped()[template]) == fields(template)


@pytest.mark.parametrize("template", texts.templates())
def test_templates_are_authored_in_simplified(template: str) -> None:
    assert to_simplified(template) == template


@pytest.mark.parametrize(
    "mainland",
    [
        # s2tw leaves all of these; a Taiwan reader expects 設定, 目前, 私訊, 歸零, 關鍵字 …
        *("設置", "當前", "私聊", "清零", "關鍵詞", "推送", "報道", "信息", "視頻", "用戶"),
        "默認",
        # s2twp's own misfires: menu words, and 程序 (a procedure) turned into 程式 (a
        # program); the UI speaks of neither.
        *("檢視", "時間線", "命令", "程序", "程式", "進程"),
        # Taiwan typesetting: corner brackets; 臺, not 台 (the standard form, and what s2twp
        # gives); 裡, never 里 (報道里 must read 報導裡).
        *("“", "”", "台", "里"),
    ],
)
def test_catalog_reads_as_taiwan_wording(mainland: str) -> None:
    assert [text for text in shipped().values() if mainland in text] == []


def test_taiwan_words_are_in_the_catalog() -> None:
    catalog = "\n".join(shipped().values())
    for word in ("設定", "目前", "私訊", "歸零", "關鍵字", "推播", "訂閱", "時區", "報導", "指令"):
        assert word in catalog, word


def test_read_range_does_not_repeat_the_section_words() -> None:
    for script in Script:
        text = texts.t(texts.READ_RANGE, script, n=9, total=5)
        assert text.count("第") == 1 and "9" in text
        echoed = texts.t(texts.READ_UNREADABLE, script, arg="第三節", total=5)
        assert echoed.count("第") == 1 and "1 到 5" in echoed


def test_choosing_a_script_names_both_scripts() -> None:
    assert "请选择简体或繁体" in texts.t(
        texts.SCRIPT_CHOOSE, Script.SIMPLIFIED, script_name="简体"
    )
    assert "請選擇簡體或繁體" in texts.t(
        texts.SCRIPT_CHOOSE, Script.TRADITIONAL, script_name="繁體"
    )


# --------------------------------------------------------------------------- overrides


@pytest.mark.parametrize("override", texts_taiwan.OVERRIDES, ids=lambda o: o.before)
def test_override_is_well_formed(override: texts_taiwan.Override) -> None:
    assert override.before and override.after and override.why
    assert override.before not in override.after  # applying the table twice changes nothing
    assert s2tw().convert(override.after) == override.after


@pytest.mark.parametrize("index", range(len(texts_taiwan.OVERRIDES)))
def test_override_changes_the_catalog(index: int) -> None:
    """No dead entries: dropping any one override gives a different catalog."""
    table = texts_taiwan.OVERRIDES
    without = table[:index] + table[index + 1 :]
    shorter = {t: texts_taiwan.apply(s2twp(t), without) for t in texts.templates()}
    assert shorter != texts.generate_catalog(), table[index]


def test_overrides_are_applied_once() -> None:
    for traditional in shipped().values():
        assert texts_taiwan.apply(traditional) == traditional


def test_string_missing_from_the_catalog_gets_taiwan_wording_too() -> None:
    assert texts.t("每天推送，关键词", Script.TRADITIONAL) == "每天推播，關鍵字"


def test_replies_do_not_load_a_converter() -> None:
    """Serving traditional UI text is a catalog lookup (start-up and memory stay small)."""
    code = (
        "from bot.render import texts\nfrom bot.content import scripts\n"
        "from bot.content.scripts import Script\n"
        "texts.help_text(Script.TRADITIONAL, 'b')\n"
        "texts.t(texts.ERROR, Script.TRADITIONAL)\n"
        "print(scripts._converter.cache_info().currsize)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
