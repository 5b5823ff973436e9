"""Saving: ☆ under a quote, a section or a passage card saves it for the reader who pressed
it (pressed again, unsaves it), and /saved lists what they kept, newest first."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot import render
from bot.content.scripts import Script, echo
from bot.handlers.common import BotContext, edit, edit_buttons, reader_script, send
from bot.render import callback_data as cb
from bot.render import keyboards, texts
from bot.render.texts import t
from bot.services.reading import Passage, SavedItem

SHOWN = 10  # saved items listed at once (three buttons each, within Telegram's 100)
_EXCERPT = 40  # characters of a quote or passage in the list


async def save_button(update: Update, context: BotContext, button: cb.Save) -> None:
    """☆: save or unsave for the presser; in a private chat the star shows the new state."""
    query = update.callback_query
    assert query is not None
    svc = context.services
    script = await reader_script(context, update)
    if not await _exists(context, button.kind, button.number):
        await query.answer()
        return  # forged, or an item this article does not have
    chat = update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    markup = getattr(query.message, "reply_markup", None)
    # In a private chat the star shows the reader's state: ★ unsaves, ☆ saves (a message
    # shown before the item was saved still says ☆). In a group the message is everyone's:
    # the press toggles, and only the presser's answer says what changed.
    want = _shown_state(markup, button) is not True if private else None
    saved = await svc.reading.toggle_saved(query.from_user.id, button.kind, button.number, want)
    await query.answer(t(texts.SAVED_NOW if saved else texts.UNSAVED_NOW, script))
    if private:
        starred = keyboards.with_star(markup, saved, script)
        if starred is not None:
            await edit_buttons(update, InlineKeyboardMarkup(starred))


def _shown_state(markup: InlineKeyboardMarkup | None, button: cb.Save) -> bool | None:
    """Return whether the pressed star shows ★ (saved), ☆, or None if it is not there."""
    rows = markup.inline_keyboard if markup is not None else ()
    data = button.encode()
    for row in rows:
        for b in row:
            if b.callback_data == data:
                return b.text.startswith("★")
    return None


async def _exists(context: BotContext, kind: str, number: int) -> bool:
    library = context.services.library
    if kind == "q":
        return 1 <= number <= library.quote_count
    if kind == "s":
        return 1 <= number <= library.section_count
    return await context.services.reading.passage(number) is not None


async def saved(update: Update, context: BotContext) -> None:
    """/saved: the reader's saved quotes, sections and passages, newest first."""
    await send(context, update, await _listing(update, context))


async def unsave_button(update: Update, context: BotContext, button: cb.Unsave) -> None:
    """ "Remove" in the /saved list: unsave, and show the list again in its place."""
    query = update.callback_query
    assert query is not None
    script = await reader_script(context, update)
    await context.services.reading.remove_saved(query.from_user.id, button.kind, button.number)
    await query.answer(t(texts.SAVED_REMOVED, script))
    await edit(context, update, await _listing(update, context))


async def _listing(update: Update, context: BotContext) -> render.Rendered:
    svc = context.services
    script = await reader_script(context, update)
    user = update.effective_user
    if user is None:
        return render.Rendered(t(texts.SAVED_EMPTY, script))
    items, total = await svc.reading.newest_saved(user.id, SHOWN)
    if not items:
        return render.Rendered(t(texts.SAVED_EMPTY, script))
    found = await svc.reading.passages([i.number for i in items if i.kind == "p"])
    lines = [t(texts.SAVED_HEADER, script, count=total)]
    rows: keyboards.Rows = []
    for i, item in enumerate(items, start=1):
        line, actions = _item(context, i, item, found.get(item.number), script)
        lines.append(line)
        rows.append(actions)
    if total > len(items):
        lines.append(t(texts.SAVED_MORE, script, more=total - len(items)))
    return render.Rendered("\n".join(lines), InlineKeyboardMarkup(rows))


def _excerpt(text: str) -> str:
    return render.esc(text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…")


def _item(
    context: BotContext, i: int, item: SavedItem, passage: Passage | None, script: Script
) -> tuple[str, list[InlineKeyboardButton]]:
    """Return one saved item's line and its buttons: open, make a card, remove."""
    library = context.services.library
    button = keyboards.button
    remove = button(t(texts.BTN_SAVED_REMOVE, script), cb.Unsave(item.kind, item.number))
    opening = t(texts.BTN_SAVED_OPEN, script, i=i)
    card = t(texts.BTN_SAVED_CARD, script)
    if item.kind == "q" and (q := library.quote(item.number, script)) is not None:
        line = t(
            texts.SAVED_QUOTE,
            script,
            i=i,
            n=item.number,
            label=q.date.label,
            text=_excerpt(q.text),
        )
        actions = [button(opening, cb.OpenQuote(item.number)), button(card, cb.Card(item.number))]
    elif item.kind == "s" and (sec := library.section(item.number, script)) is not None:
        line = t(texts.SAVED_SECTION, script, i=i, n=item.number, title=render.esc(sec.title))
        actions = [
            button(opening, cb.OpenSection(item.number)),
            button(card, cb.SectionCard(item.number)),
        ]
    elif passage is not None and (sec := library.section(passage.section, script)):
        words = _excerpt(echo(passage.text, script))  # kept as quoted; shown in this script
        line = t(
            texts.SAVED_PASSAGE,
            script,
            i=i,
            n=passage.section,
            title=render.esc(sec.title),
            text=words,
        )
        actions = [
            button(opening, cb.OpenSection(passage.section)),
            button(card, cb.PassageCard(passage.id)),
        ]
    else:  # an item this article no longer has: only removing it makes sense
        line, actions = f"{i}. —", []
    return line, [*actions, remove]
