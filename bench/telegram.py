"""The customer side of the benchmarks: signed Telegram updates to a bot of their own."""

from __future__ import annotations

import time

import httpx

BOT = "bench"
SECRET = "bench-secret"  # noqa: S105 (a benchmark's own throwaway bot)
ATTEMPTS = 3


async def customer_writes(
    client: httpx.AsyncClient, base_url: str, n: int, chat: int, text: str
) -> None:
    """Update number `n`, from the customer of chat `chat`; raises unless it is acked."""
    update = {
        "update_id": n,
        "message": {
            "message_id": n,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "first_name": "Bench"},
            "text": text,
        },
    }
    for attempt in range(1, ATTEMPTS + 1):
        try:
            answer = await client.post(
                f"{base_url}/webhooks/telegram/{BOT}",
                json=update,
                headers={"x-telegram-bot-api-secret-token": SECRET},
            )
            break
        except httpx.TransportError:
            # A connection lost mid-request (once in a make bench run, under load):
            # Telegram sends the update again, and so does the benchmark; the channels
            # service stores a message once.
            if attempt == ATTEMPTS:
                raise
    answer.raise_for_status()
