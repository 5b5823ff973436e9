"""Bot API methods about how updates reach the bot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.fake_telegram.records import JSON
from tests.fake_telegram.validation import as_bool

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram


def delete_webhook(fake: FakeTelegram, params: JSON) -> bool:
    """Implement deleteWebhook (drop_pending_updates empties the queue)."""
    if as_bool(params.get("drop_pending_updates", False)):
        fake.updates.pending.clear()
    return True


def get_webhook_info(fake: FakeTelegram, params: JSON) -> JSON:
    """Implement getWebhookInfo (never a webhook)."""
    return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
