"""Bot API methods about how updates reach the bot: the webhook's setup."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fake_telegram.records import JSON, Answer, bad_request
from fake_telegram.validation import as_bool
from fake_telegram.webhook import Webhook

if TYPE_CHECKING:
    from fake_telegram.server import FakeTelegram

WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]*")


def set_webhook(fake: FakeTelegram, params: JSON) -> Answer:
    """Implement setWebhook; an empty url removes the webhook, as on Telegram."""
    url = str(params.get("url") or "")
    if not url:
        return delete_webhook(fake, params)
    fake.delivery.check_set_rate()
    path = _webhook_path(url)
    secret = str(params.get("secret_token") or "")
    if len(secret) > 256:
        raise bad_request("secret token is too long")
    if not SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    new = Webhook(
        url=url,
        path=path,
        secret_token=secret,
        max_connections=_max_connections(params.get("max_connections")),
        has_custom_certificate=params.get("certificate") is not None,
    )
    fake.updates.set_allowed(params.get("allowed_updates"))
    drop = as_bool(params.get("drop_pending_updates", False))
    if drop:
        fake.delivery.drop_pending()
    if new == fake.delivery.webhook and not new.has_custom_certificate and not drop:
        return Answer(True, "Webhook is already set")
    fake.updates.wake_poller("set_webhook")
    fake.delivery.register(new)
    return Answer(True, "Webhook was set")


def _webhook_path(url: str) -> str:
    """Check a webhook URL like Telegram; return the path and query updates go to."""
    # Telegram reads a URL without a scheme as https.
    parts = urlsplit(url if "://" in url else f"https://{url}")
    try:
        port = parts.port
    except ValueError:
        raise bad_request("invalid webhook URL specified") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    # http is accepted as by a Bot API server in local mode; the cloud wants https.
    if parts.scheme == "https" and (port or 443) not in WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _max_connections(raw: object) -> int:
    """Read max_connections as Telegram does: default 40, clamped to 1..100."""
    if raw is None or raw == "":
        return 40
    try:
        value = int(str(raw))
    except ValueError:
        value = 0
    return min(max(value, 1), 100)


def delete_webhook(fake: FakeTelegram, params: JSON) -> Answer:
    """Implement deleteWebhook; undelivered updates become available to getUpdates."""
    if as_bool(params.get("drop_pending_updates", False)):
        fake.delivery.drop_pending()
    if fake.delivery.webhook is None:
        return Answer(True, "Webhook is already deleted")
    fake.delivery.unregister()
    return Answer(True, "Webhook was deleted")


def get_webhook_info(fake: FakeTelegram, params: JSON) -> JSON:
    """Implement getWebhookInfo."""
    return fake.delivery.info()
