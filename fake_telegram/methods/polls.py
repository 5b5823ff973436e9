"""Bot API methods for polls: sendPoll and stopPoll, with Telegram's checks.

Polls take the shape of Bot API 9.6, which PTB 22.8 requires: options carry a
persistent_id, quizzes name their correct_option_ids, and every poll says whether it
allows_revoting and is members_only.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from fake_telegram.html import entities_json, parse_entities
from fake_telegram.methods.messages import check_flood, check_reply_target, thread_of
from fake_telegram.records import JSON, SentMessage, bad_request
from fake_telegram.validation import as_bool, as_int, validate_reply_markup

if TYPE_CHECKING:
    from fake_telegram.server import FakeTelegram

MAX_QUESTION = 300
MAX_OPTION = 100
MAX_OPTIONS = 12
MAX_EXPLANATION = 200
MAX_EXPLANATION_LINE_FEEDS = 2


def send_poll(fake: FakeTelegram, params: JSON) -> JSON:
    """Implement sendPoll."""
    world = fake.world
    chat_id = world.resolve_chat(params)
    question, question_entities = parse_entities(
        params.get("question") or "", params.get("question_parse_mode")
    )
    if not question.strip():
        raise bad_request("poll question must be non-empty")
    if len(question) > MAX_QUESTION:
        raise bad_request(f"poll question length must not exceed {MAX_QUESTION}")
    options = _options(params.get("options"))
    kind = params.get("type") or "regular"
    if kind not in ("regular", "quiz"):
        raise bad_request("unsupported poll type specified")
    poll: JSON = {
        "id": world.new_poll_id(),
        "question": question,
        "options": options,
        "total_voter_count": 0,
        "is_closed": as_bool(params.get("is_closed", False)),
        "is_anonymous": as_bool(params.get("is_anonymous", True)),
        "type": kind,
        "allows_multiple_answers": as_bool(params.get("allows_multiple_answers", False)),
        "allows_revoting": as_bool(params.get("allows_revoting", kind == "regular")),
        "members_only": as_bool(params.get("members_only", False)),
    }
    if question_entities:
        poll["question_entities"] = entities_json(question, question_entities)
    if kind == "quiz":
        poll.update(_quiz(params, len(options), poll["allows_multiple_answers"]))
    for name in ("open_period", "close_date"):
        if params.get(name) is not None:
            poll[name] = as_int(params[name], name)
    markup = validate_reply_markup(params.get("reply_markup"))
    check_reply_target(fake, chat_id, params)
    thread = thread_of(fake, chat_id, params)
    paid = check_flood(fake, "sendPoll", chat_id, params)
    msg = SentMessage(
        chat_id=chat_id,
        message_id=world.alloc_message_id(chat_id),
        text="",
        plain_text="",
        parse_mode=None,
        reply_markup=markup,
        disable_notification=as_bool(params.get("disable_notification", False)),
        message_thread_id=thread,
        t=fake.arrived,
        date=int(time.time()),
        paid=paid,
        poll=poll,
    )
    fake.add_sent(msg)
    world.polls[poll["id"]] = msg
    return world.message_json(msg)


def _options(raw: Any) -> list[JSON]:
    """Check poll options (InputPollOption objects or plain strings); return PollOptions."""
    if not isinstance(raw, list):
        if isinstance(raw, str):
            raise bad_request("can't parse options JSON object")
        raise bad_request("expected an Array of String as options")
    if len(raw) < 2:
        raise bad_request("poll must have at least 2 option")
    if len(raw) > MAX_OPTIONS:
        raise bad_request(f"poll can't have more than {MAX_OPTIONS} options")
    options = []
    for index, item in enumerate(raw):
        if isinstance(item, dict):
            text, entities = parse_entities(item.get("text") or "", item.get("text_parse_mode"))
        elif isinstance(item, str):
            text, entities = item, ()
        else:
            raise bad_request("expected an option to be of type String")
        if not text.strip():
            raise bad_request("poll options must be non-empty")
        if len(text) > MAX_OPTION:
            raise bad_request(f"poll options length must not exceed {MAX_OPTION}")
        option: JSON = {"persistent_id": str(index), "text": text, "voter_count": 0}
        if entities:
            option["text_entities"] = entities_json(text, entities)
        options.append(option)
    return options


def _quiz(params: JSON, option_count: int, multiple: bool) -> JSON:
    """Check a quiz's correct options and explanation; return their Poll fields."""
    correct = _correct_option_ids(params)
    if not correct:
        raise bad_request("correct quiz option list must be non-empty")
    if any(a >= b for a, b in itertools.pairwise(correct)):
        raise bad_request("correct quiz option list must be increasing")
    if any(not 0 <= i < option_count for i in correct):
        raise bad_request("wrong quiz correct_option_id")
    if len(correct) > 1 and not multiple:
        raise bad_request("QUIZ_CORRECT_ANSWERS_TOO_MUCH")
    fields: JSON = {"correct_option_ids": correct}
    explanation, entities = parse_entities(
        params.get("explanation") or "", params.get("explanation_parse_mode")
    )
    # Telegram's rule: 0-200 characters with at most 2 line feeds after entities parsing.
    if len(explanation) > MAX_EXPLANATION:
        raise bad_request("explanation is too long")
    if explanation.count("\n") > MAX_EXPLANATION_LINE_FEEDS:
        raise bad_request("explanation can't contain more than 2 line feeds")
    if explanation:
        fields["explanation"] = explanation
    if entities:
        fields["explanation_entities"] = entities_json(explanation, entities)
    return fields


def _correct_option_ids(params: JSON) -> list[int]:
    """Read correct_option_ids (what PTB 22.8 sends) or the older correct_option_id."""
    raw = params.get("correct_option_ids")
    if raw is None:
        single = params.get("correct_option_id")
        return [] if single is None else [as_int(single, "correct_option_id")]
    if not isinstance(raw, list):
        raise bad_request("can't parse correct option identifiers JSON object")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
        raise bad_request("correct option identifier must be of type Number")
    return raw


def stop_poll(fake: FakeTelegram, params: JSON) -> JSON:
    """Implement stopPoll: close a poll the bot sent and return its final state."""
    world = fake.world
    chat_id = world.resolve_chat(params)
    if params.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    msg = world.messages.get((chat_id, as_int(params["message_id"], "message_id")))
    if msg is None:
        raise bad_request("message with poll to stop not found")
    if msg.poll is None:
        raise bad_request("message is not a poll")
    if msg.poll["is_closed"]:
        raise bad_request("poll has already been closed")
    markup = validate_reply_markup(params.get("reply_markup"))
    msg.poll["is_closed"] = True
    msg.reply_markup = markup
    return msg.poll
