"""The channels app on a LocalBus in a temporary directory, as providers would call it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.channels.app import create_app
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.db.migrate import upgrade_async
from shared.events import INBOUND, Envelope, MessageReceived, decode
from shared.runtime import Runtime, bootstrap
from tests.asgi import serve

APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "verify-me"
TELEGRAM_SECRET = "tg-secret-123"
TWITTER_SECRET = "x-consumer-secret"
MAILGUN_KEY = "mailgun-signing-key"
MIME_TOKEN = "mta-token"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"


@dataclass
class Channels:
    client: httpx.AsyncClient
    bus: LocalBus
    runtime: Runtime

    async def inbound(self) -> list[Envelope]:
        async with self.bus.subscribe([INBOUND], "test") as subscription:
            records = await subscription.fetch(timeout_s=0)
        return [decode(record.value, topic=INBOUND) for record in records]

    async def messages(self) -> list[MessageReceived]:
        return [e.data for e in await self.inbound() if isinstance(e.data, MessageReceived)]


def desk_settings(tmp_path: Path, **changes: object) -> Settings:
    settings = Settings(
        data_dir=tmp_path,
        meta_app_secret=APP_SECRET,
        meta_verify_token=VERIFY_TOKEN,
        meta_accounts={"PAGE_1": "acme", "IG_1": "acme", "106540352242922": "globex"},
        telegram_bots={"support": {"tenant": "acme", "secret_token": TELEGRAM_SECRET}},
        twitter_consumer_secret=TWITTER_SECRET,
        mailgun_signing_key=MAILGUN_KEY,
        postmark_basic_auth="postmark:pm-pass",
        sendgrid_basic_auth="sendgrid:sg-pass",
        email_mime_token=MIME_TOKEN,
        email_addresses={"help@acme.test": "acme"},
        twitter_accounts={"4337869213": "acme"},
        max_webhook_bytes=64 * 1024,
    )
    return settings.model_copy(update=changes)


@contextlib.asynccontextmanager
async def channels_app(settings: Settings, *, embedded: bool = False) -> AsyncIterator[Channels]:
    """The channels app on a migrated SQLite database and a LocalBus in the data dir."""
    await upgrade_async(settings.effective_database_url)
    bus = LocalBus(settings.data_dir / "bus.sqlite3")
    runtime = bootstrap(settings, bus=bus, embedded=embedded)
    async with serve(create_app(runtime)) as client:
        await runtime.connected.wait()
        yield Channels(client, bus, runtime)


@pytest.fixture
async def channels(tmp_path: Path) -> AsyncIterator[Channels]:
    async with channels_app(desk_settings(tmp_path)) as app:
        yield app
