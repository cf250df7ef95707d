"""Replies to a fake Telegram Bot API over real HTTP: retries, Retry-After, dead letters."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.channels.app import deliver_outbound
from shared import events as ev
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.runtime import Runtime, bootstrap
from tests.fake_providers import FakeProvider, fake_provider

TOKEN = "123456:ABC-DEF"


def reply(text: str) -> ev.Envelope:
    return ev.Envelope.wrap(
        ev.DeliverMessage(
            conversation_id="c1",
            channel=ev.Channel.TELEGRAM,
            provider="telegram",
            recipient="1111111",
            thread_key="1111111",
            text=text,
        ),
        tenant="acme",
        key="c1",
    )


async def run_delivery(runtime: Runtime, until: int, fake: FakeProvider) -> list[ev.DeadLettered]:
    """Run the delivery worker until the fake saw `until` calls (and a moment more)."""
    await runtime.bus.start()

    async def work() -> None:
        await deliver_outbound(runtime)

    worker = asyncio.create_task(work())
    for _ in range(200):
        if len(fake.calls) >= until:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    runtime.stop.set()
    await worker
    async with runtime.bus.subscribe([ev.DEAD_LETTER], "inspector") as subscription:
        records = await subscription.fetch(timeout_s=0)
    await runtime.bus.close()
    letters = [ev.decode(r.value).data for r in records]
    return [letter for letter in letters if isinstance(letter, ev.DeadLettered)]


def runtime_for(tmp_path: Path, fake: FakeProvider, **settings: object) -> Runtime:
    return bootstrap(
        Settings(
            data_dir=tmp_path,
            telegram_api_base=fake.base_url,
            telegram_bots={"support": {"tenant": "acme", "secret_token": "s", "bot_token": TOKEN}},
            **settings,  # type: ignore[arg-type]
        ),
        bus=LocalBus(tmp_path / "bus.sqlite3"),
    )


async def test_a_reply_reaches_telegram_after_a_429_with_retry_after(tmp_path: Path) -> None:
    async with fake_provider() as fake:
        fake.replies = [(429, {"retry-after": "0"}), (502, {})]
        runtime = runtime_for(tmp_path, fake)
        await runtime.bus.start()
        await runtime.bus.publish(ev.OUTBOUND, "acme", reply("Ya está resuelto"))
        await runtime.bus.close()

        letters = await run_delivery(runtime, 3, fake)

    assert (
        fake.calls
        == [(f"bot{TOKEN}/sendMessage", {"chat_id": "1111111", "text": "Ya está resuelto"})] * 3
    )
    assert letters == []


async def test_a_refusal_or_exhausted_retries_go_to_the_dead_letters(tmp_path: Path) -> None:
    async with fake_provider() as fake:
        fake.replies = [(400, {}), (503, {}), (503, {})]
        runtime = runtime_for(tmp_path, fake, delivery_attempts=2)
        await runtime.bus.start()
        await runtime.bus.publish(ev.OUTBOUND, "acme", reply("first"))
        await runtime.bus.publish(ev.OUTBOUND, "acme", reply("second"))
        await runtime.bus.close()

        letters = await run_delivery(runtime, 3, fake)

    assert [letter.reason.split(":")[0] for letter in letters] == ["delivery failed"] * 2
    assert "telegram answered 400" in letters[0].reason
    assert "telegram answered 503" in letters[1].reason and "after 2 attempts" in letters[1].reason
