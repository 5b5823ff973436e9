"""Bot API methods that answer callback queries and inline queries."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from fake_telegram.html import parse_text
from fake_telegram.records import JSON, InlineAnswer, bad_request
from fake_telegram.validation import as_bool, as_int, validate_reply_markup

if TYPE_CHECKING:
    from fake_telegram.server import FakeTelegram

QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


def answer_callback_query(fake: FakeTelegram, params: JSON) -> bool:
    """Implement answerCallbackQuery (each query answerable once)."""
    query_id = str(params.get("callback_query_id") or "")
    if query_id not in fake.world.open_callbacks:
        raise bad_request(QUERY_TOO_OLD)
    text = params.get("text")
    if text is not None and len(str(text)) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    fake.world.open_callbacks.discard(query_id)
    fake.callback_answers[query_id] = params
    return True


def answer_inline_query(fake: FakeTelegram, params: JSON) -> bool:
    """Implement answerInlineQuery with Telegram's result checks."""
    query_id = str(params.get("inline_query_id") or "")
    if query_id not in fake.world.open_inline:
        raise bad_request(QUERY_TOO_OLD)
    results = params.get("results")
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > 50:
        raise bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict):
            raise bad_request("can't parse inline query result JSON object")
        rid = result.get("id")
        if not isinstance(rid, str) or not 1 <= len(rid.encode("utf-8")) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if rid in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(rid)
        _check_inline_result(result)
    next_offset = params.get("next_offset")
    if next_offset is not None and len(str(next_offset).encode("utf-8")) > 64:
        raise bad_request("NEXT_OFFSET_INVALID")
    fake.world.open_inline.discard(query_id)
    cache_time = params.get("cache_time")
    fake.inline_answers[query_id] = InlineAnswer(
        query_id=query_id,
        results=results,
        cache_time=None if cache_time is None else as_int(cache_time, "cache_time"),
        is_personal=as_bool(params.get("is_personal", False)),
        next_offset=None if next_offset is None else str(next_offset),
        button=params.get("button"),
        t=time.perf_counter(),
    )
    return True


def _check_inline_result(result: JSON) -> None:
    """Validate one InlineQueryResult."""
    kind = result.get("type")
    if not isinstance(kind, str) or not kind:
        raise bad_request("RESULT_TYPE_INVALID")
    content = result.get("input_message_content")
    if kind == "article":
        if not str(result.get("title") or "").strip():
            raise bad_request("RESULT_TITLE_EMPTY")
        if not isinstance(content, dict):
            raise bad_request("input_message_content is required for article results")
    if isinstance(content, dict) and "message_text" in content:
        parse_text(content["message_text"], content.get("parse_mode"))
    if "reply_markup" in result:
        validate_reply_markup(result["reply_markup"])
