"""Tests for the simplified/traditional helpers in ``bot.content.scripts``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.content.scripts import (
    Script,
    fold,
    parse_script,
    script_for_language,
    to_simplified,
    to_traditional_ui,
    ui,
)


def test_ui_traditional_uses_taiwan_forms() -> None:
    converted = ui("为众里", Script.TRADITIONAL)
    assert converted == "為眾裡"
    for char in "爲衆裏":
        assert char not in converted


def test_ui_traditional_converts_a_sentence() -> None:
    assert ui("选择简体或繁体", Script.TRADITIONAL) == "選擇簡體或繁體"


def test_ui_traditional_converts_words_the_taiwan_way() -> None:
    # s2twp converts phrases too; s2tw would give 設置默認視頻.
    assert ui("设置默认视频", Script.TRADITIONAL) == "設定預設影片"


def test_to_traditional_ui_matches_ui() -> None:
    text = "今天的文章分为五个部分，请选择一个。"
    assert to_traditional_ui(text) == ui(text, Script.TRADITIONAL)
    assert to_traditional_ui(text) != text


@given(st.text(max_size=30))
def test_ui_simplified_is_unchanged(text: str) -> None:
    assert ui(text, Script.SIMPLIFIED) == text


def test_to_simplified() -> None:
    assert to_simplified("為眾裡") == "为众里"
    assert to_simplified("履新一週 市委書記") == "履新一周 市委书记"
    assert to_simplified("abc 123") == "abc 123"


@pytest.mark.parametrize(
    ("taiwan", "mainland"),
    [("看著這些人", "看着这些人"), ("不能餓著肚子", "不能饿着肚子"), ("有專人盯著", "有专人盯着")],
)
def test_to_simplified_writes_the_aspect_particle_as_mainland_text_does(
    taiwan: str, mainland: str
) -> None:
    assert to_simplified(taiwan) == mainland


@pytest.mark.parametrize("word", ["著名", "顯著", "著作"])
def test_to_simplified_keeps_zhu_where_it_is_not_the_particle(word: str) -> None:
    assert "著" in to_simplified(word)


@pytest.mark.parametrize(("left", "right"), [("細節", "细节"), ("武漢", "武汉"), ("ABC", "abc")])
def test_fold_ignores_script_and_case(left: str, right: str) -> None:
    assert fold(left) == fold(right)


def test_fold_keeps_different_words_apart() -> None:
    assert fold("細節") != fold("成敗")


@pytest.mark.parametrize(
    ("left", "right"),
    [("看著", "看着"), ("盯著", "盯着"), ("餓著肚子", "饿着肚子"), ("著", "着"), ("著名", "着名")],
)
def test_fold_treats_zhu_and_zhe_as_one_character(left: str, right: str) -> None:
    assert fold(left) == fold(right)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("simplified", Script.SIMPLIFIED),
        (" Simple ", Script.SIMPLIFIED),
        ("S", Script.SIMPLIFIED),
        ("简", Script.SIMPLIFIED),
        ("簡體", Script.SIMPLIFIED),
        ("zh-Hans", Script.SIMPLIFIED),
        ("traditional", Script.TRADITIONAL),
        ("t", Script.TRADITIONAL),
        ("繁", Script.TRADITIONAL),
        ("繁体", Script.TRADITIONAL),
        ("ZH-HANT", Script.TRADITIONAL),
        ("", None),
        ("klingon", None),
    ],
)
def test_parse_script(word: str, expected: Script | None) -> None:
    assert parse_script(word) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh-hans", Script.SIMPLIFIED),
        ("zh-CN", Script.SIMPLIFIED),
        ("zh_cn", Script.SIMPLIFIED),
        ("zh-SG", Script.SIMPLIFIED),
        ("zh-Hans-CN", Script.SIMPLIFIED),
        ("zh-TW", Script.TRADITIONAL),
        ("zh-hk", Script.TRADITIONAL),
        ("zh", Script.TRADITIONAL),
        ("en", Script.TRADITIONAL),
        (None, Script.TRADITIONAL),
        ("", Script.TRADITIONAL),
    ],
)
def test_script_for_language(code: str | None, expected: Script) -> None:
    assert script_for_language(code, Script.TRADITIONAL) is expected


def test_script_for_language_keeps_default() -> None:
    assert script_for_language("en", Script.SIMPLIFIED) is Script.SIMPLIFIED
    assert script_for_language("zh-TW", Script.SIMPLIFIED) is Script.SIMPLIFIED


@pytest.mark.parametrize("script", list(Script))
def test_script_short_codes_round_trip(script: Script) -> None:
    assert Script.from_short(script.short) is script
    assert script.other is not script
    assert script.other.other is script


def test_script_values_and_unknown_short_code() -> None:
    assert [s.value for s in Script] == ["simplified", "traditional"]
    assert Script.SIMPLIFIED.short == "s"
    assert Script.TRADITIONAL.short == "t"
    assert Script.from_short("x") is None


def test_converters_are_built_once() -> None:
    from bot.content import scripts

    for text in ("看著", "細節", "盯著"):
        to_simplified(text)
        fold(text)
    builds = scripts._converter.cache_info().misses
    to_simplified("再一次")
    fold("再一次")
    assert scripts._converter.cache_info().misses == builds


def test_only_the_scripts_module_imports_opencc() -> None:
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "bot"
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] == "opencc" for name in names):
                importers.add(path.relative_to(package).as_posix())
    assert importers == {"content/scripts.py"}
