"""Every JSON or raw webhook, correctly authenticated, fed what providers never send:
truncated JSON, bytes that are not UTF-8, JSON of the wrong shape, an empty body, a
body over the limit. Each gets a 4xx problem+json answer and nothing reaches the bus."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

import pytest

from services.channels.webhooks import hmac_sha256
from tests.unit.channels.conftest import (
    APP_SECRET,
    MIME_TOKEN,
    TELEGRAM_SECRET,
    TWITTER_SECRET,
    Channels,
)

Auth = Callable[[bytes], dict[str, str]]


def meta(body: bytes) -> dict[str, str]:
    return {"x-hub-signature-256": "sha256=" + hmac_sha256(APP_SECRET, body).hex()}


def twitter(body: bytes) -> dict[str, str]:
    digest = hmac.new(TWITTER_SECRET.encode(), body, hashlib.sha256).digest()
    return {"x-twitter-webhooks-signature": "sha256=" + base64.b64encode(digest).decode()}


def telegram(body: bytes) -> dict[str, str]:
    return {"x-telegram-bot-api-secret-token": TELEGRAM_SECRET}


def postmark(body: bytes) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(b"postmark:pm-pass").decode()}


def mime(body: bytes) -> dict[str, str]:
    return {"authorization": f"Bearer {MIME_TOKEN}"}


ENDPOINTS: list[tuple[str, Auth, str]] = [
    ("/webhooks/meta", meta, "application/json"),
    ("/webhooks/twitter", twitter, "application/json"),
    ("/webhooks/telegram/support", telegram, "application/json"),
    ("/webhooks/email/postmark", postmark, "application/json"),
    ("/webhooks/email/mime", mime, "message/rfc822"),
]
BODIES = {
    "truncated JSON": b'{"object": "page", "entry": [{"id": "PAGE_1", "messag',
    "not UTF-8": b"\xff\xfe\x00\x81 \xc3\x28 garbage",
    "wrong shape": b"[1, 2, 3]",
    "empty": b"",
}


@pytest.mark.parametrize(("path", "auth", "content_type"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
@pytest.mark.parametrize("case", sorted(BODIES))
async def test_malformed_bodies_are_refused_clearly(
    channels: Channels, path: str, auth: Auth, content_type: str, case: str
) -> None:
    body = BODIES[case]
    headers = {"content-type": content_type, **auth(body)}
    response = await channels.client.post(path, content=body, headers=headers)
    if path.endswith("mime") and case != "empty":
        # Raw MIME takes any bytes as a (poor) message; it must still not fail.
        assert response.status_code < 500
        return
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await channels.messages() == []


@pytest.mark.parametrize(("path", "auth", "content_type"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
async def test_bodies_over_the_limit_get_413(
    channels: Channels, path: str, auth: Auth, content_type: str
) -> None:
    settings = channels.runtime.settings
    limit = settings.max_email_bytes if "/email/" in path else settings.max_webhook_bytes
    body = b'{"x": "' + b"a" * limit + b'"}'
    headers = {"content-type": content_type, **auth(body)}
    response = await channels.client.post(path, content=body, headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
