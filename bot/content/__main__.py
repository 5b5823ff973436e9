"""``python -m bot.content``: print the parsed article as an outline or as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.content.library import DEFAULT_ARTICLE as PROJECT_ARTICLE
from bot.content.library import load_library
from bot.content.model import Article
from bot.content.parser import ArticleError
from bot.content.scripts import Script

# The bot's own choice: ARTICLE_PATH when set (as in the container), else the project's copy.
DEFAULT_ARTICLE = Path(os.environ.get("ARTICLE_PATH", "").strip() or PROJECT_ARTICLE)


def _outline(a: Article) -> str:
    lines = [a.title, f"{a.byline} · {a.image_credit}".strip(" ·"), "", "Sections:"]
    for s in a.sections:
        lines.append(f"  {s.number}. {s.title} ({len(s.text)} chars, {len(s.paragraphs)} ¶)")
    lines += ["", "Quotes:"]
    for q in a.quotes:
        lines.append(f"  {q.number:>2}. [{q.date.key}] {q.text}")
    lines += ["", "Dates:"]
    for d in a.dates:
        lines.append(f"  {d.date.key}: {len(d.events)} events, quotes {list(d.quotes)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.content", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the article as JSON")
    parser.add_argument(
        "--script",
        choices=[s.value for s in Script],
        default=Script.TRADITIONAL.value,
        help="script of the output (default: traditional, as the article)",
    )
    parser.add_argument("--article", type=Path, default=DEFAULT_ARTICLE, help="article file")
    args = parser.parse_args(argv)
    try:
        library = load_library(args.article)
    except ArticleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    article = library.article(Script(args.script))
    if args.json:
        print(json.dumps(article.to_json(), ensure_ascii=False, indent=2))
    else:
        print(_outline(article))
    return 0


if __name__ == "__main__":
    sys.exit(main())
