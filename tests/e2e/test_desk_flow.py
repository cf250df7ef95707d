"""A customer writes in the web chat, an agent takes it at the desk API, replies, closes.

Everything in one process (`omniroute run`'s app) on LocalBus and SQLite: channels,
router and agents talk only through the event log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from omniroute.embedded import create_app, prepare
from services.agents.auth import Role, new_key, store_key
from services.agents.demo import DEMO_QUEUES
from shared.config import Settings
from shared.runtime import Runtime, bootstrap
from tests.asgi import relayed, serve


async def demo_runtime(tmp_path: Path) -> Runtime:
    """`omniroute run`'s runtime on the demo tenant."""
    settings = Settings(data_dir=tmp_path)
    await prepare(settings)
    return bootstrap(settings, embedded=True)


async def agent_key(runtime: Runtime, agent_id: str) -> dict[str, str]:
    return await key_of(runtime, Role.AGENT, agent_id)


async def key_of(runtime: Runtime, role: Role, agent_id: str | None = None) -> dict[str, str]:
    """The headers of a new key of `role` in the demo tenant."""
    key = new_key()
    await store_key(runtime.sessions, key=key, tenant="demo", role=role, agent_id=agent_id)
    return {"authorization": f"Bearer {key}"}


@asynccontextmanager
async def served(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app, once the demo configuration is on the bus."""
    async with serve(create_app(runtime)) as client:
        await runtime.connected.wait()
        await relayed(runtime)
        yield client


async def customer_writes(client: httpx.AsyncClient, text: str) -> dict[str, str]:
    """Lucía opens the web chat and writes `text`; returns her chat session."""
    session: dict[str, str] = (
        await client.post("/chat/v1/sessions", json={"name": "Lucía"})
    ).json()
    await client.post(
        f"/chat/v1/sessions/{session['session_id']}/messages",
        json={"text": text},
        headers={"authorization": f"Bearer {session['token']}"},
    )
    return session


async def test_chat_to_desk_and_back(tmp_path: Path) -> None:
    runtime = await demo_runtime(tmp_path)
    desk = await agent_key(runtime, "ana")
    ben = await agent_key(runtime, "ben")
    boss = await key_of(runtime, Role.SUPERVISOR)

    async with served(runtime) as client:
        assert (
            await client.put("/v1/agents/me/status", json={"status": "available"}, headers=desk)
        ).status_code == 200

        text = "I was charged twice for my order and I want a refund now!!"
        session = await customer_writes(client, text)
        visitor = {"authorization": f"Bearer {session['token']}"}

        started = time.monotonic()
        offers = (
            await client.get("/v1/agents/me/offers", params={"wait": 20}, headers=desk)
        ).json()["items"]
        offered_after_s = time.monotonic() - started
        [offer] = offers
        accepted = await client.post(f"/v1/offers/{offer['id']}/accept", headers=desk)
        conversation = accepted.json()

        await client.post(
            f"/v1/conversations/{conversation['id']}/messages",
            json={"text": "Hi Lucía, refunding it now."},
            headers=desk,
        )
        transcript = []
        for _ in range(40):
            page = await client.get(
                f"/chat/v1/sessions/{session['session_id']}/messages",
                params={"wait": 5},
                headers=visitor,
            )
            transcript = [(m["author"], m["text"]) for m in page.json()["messages"]]
            if len(transcript) == 2:
                break
        peeking = await client.get(f"/v1/conversations/{conversation['id']}", headers=ben)
        supervising = await client.get(f"/v1/conversations/{conversation['id']}", headers=boss)
        waiting_or_assigned = await client.get(
            "/v1/conversations",
            params={"state": "assigned", "channel": "chat"},
            headers=boss,
        )
        bens_list = await client.get("/v1/conversations", headers=ben)
        closed = await client.post(
            f"/v1/conversations/{conversation['id']}/close", json={}, headers=desk
        )
        for _ in range(50):
            state = (
                await client.get(f"/v1/conversations/{conversation['id']}", headers=desk)
            ).json()["state"]
            if state == "closed":
                break
            await asyncio.sleep(0.1)

    assert offered_after_s < 10
    # Enough to decide on before accepting: who, where, how hard, and what they said.
    assert (offer["channel"], offer["customer"]["name"], offer["preview"]) == (
        "chat",
        "Lucía",
        text,
    )
    assert offer["complexity"]["tier"] == "high"
    assert accepted.status_code == 200
    assert (conversation["state"], conversation["agent_id"], conversation["channel"]) == (
        "assigned",
        "ana",
        "chat",
    )
    assert conversation["complexity"]["route"] == "agent"
    assert "mentions a chargeback" in conversation["complexity"]["reasons"]
    assert conversation["messages"][0]["text"] == text
    # With their offset, though SQLite keeps none: a browser reads a time without one as
    # its own local time (a desk in Madrid saw deadlines an hour off).
    for moment in (offer["expires_at"], conversation["messages"][0]["at"]):
        assert datetime.fromisoformat(moment).utcoffset() == timedelta(0)
    assert transcript == [("customer", text), ("agent", "Hi Lucía, refunding it now.")]
    assert (peeking.status_code, supervising.status_code) == (403, 200)
    assert [c["id"] for c in waiting_or_assigned.json()["items"]] == [conversation["id"]]
    assert bens_list.json() == {"items": [], "next": None}
    assert closed.status_code == 202 and state == "closed"


async def test_a_desk_that_names_its_offers_is_answered_when_they_change(
    tmp_path: Path,
) -> None:
    runtime = await demo_runtime(tmp_path)
    desk = await agent_key(runtime, "ana")

    async with served(runtime) as client:
        await client.put("/v1/agents/me/status", json={"status": "available"}, headers=desk)

        complaint = "I was charged twice for my order and I want a refund now!!"

        async def offers(wait: float, known: list[str]) -> tuple[list[str], float]:
            started = time.monotonic()
            page = await client.get(
                "/v1/agents/me/offers",
                params={"wait": wait, "known": ",".join(known)},
                headers=desk,
            )
            return [offer["id"] for offer in page.json()["items"]], time.monotonic() - started

        await customer_writes(client, complaint)
        [first], _ = await offers(20, [])

        # Nothing new: the poll waits its whole time and gives the known offer back.
        unchanged, unchanged_after_s = await offers(1.5, [first])
        # A second customer while the desk waits on the first offer: answered at once.
        polling = asyncio.create_task(offers(20, [first]))
        await asyncio.sleep(0.5)
        assert not polling.done()
        await customer_writes(client, complaint)
        both, both_after_s = await polling
        # The first offer accepted: it leaves the open ones, which answers the poll.
        polling = asyncio.create_task(offers(20, both))
        accepted = await client.post(f"/v1/offers/{first}/accept", headers=desk)
        left, left_after_s = await polling

    assert unchanged == [first] and unchanged_after_s >= 1.5
    assert first in both and len(both) == 2
    assert both_after_s < 10
    assert accepted.status_code == 200
    assert left == [offer for offer in both if offer != first] and left_after_s < 10


async def test_a_transfer_note_reaches_the_agent_who_takes_it_next(tmp_path: Path) -> None:
    runtime = await demo_runtime(tmp_path)
    ana, ben = await agent_key(runtime, "ana"), await agent_key(runtime, "ben")
    note = "Card used abroad yesterday; she is at home in Madrid."

    async with served(runtime) as client:
        for desk in (ana, ben):
            await client.put("/v1/agents/me/status", json={"status": "available"}, headers=desk)
        await customer_writes(client, "Someone is using my card, I did not make these payments!")
        desks = {"ana": ana, "ben": ben}
        first = None
        while first is None:  # offered to one of the two
            for name, desk in desks.items():
                page = await client.get("/v1/agents/me/offers", params={"wait": 1}, headers=desk)
                if page.json()["items"]:
                    first, [offer] = name, page.json()["items"]
                    break
        other = "ben" if first == "ana" else "ana"
        taken = await client.post(f"/v1/offers/{offer['id']}/accept", headers=desks[first])
        moved = await client.post(
            f"/v1/conversations/{offer['conversation_id']}/transfer",
            json={"agent_id": other, "note": note},
            headers=desks[first],
        )
        offered = await client.get(
            "/v1/agents/me/offers", params={"wait": 20}, headers=desks[other]
        )
        [next_offer] = offered.json()["items"]
        seen = await client.post(f"/v1/offers/{next_offer['id']}/accept", headers=desks[other])

    assert (taken.status_code, moved.status_code, seen.status_code) == (200, 200, 200)
    [transfer] = [h for h in seen.json()["history"] if h["type"] == "ConversationTransferred"]
    assert transfer["detail"] == {"from_agent_id": first, "to_agent_id": other, "note": note}


async def test_after_a_close_the_agents_slot_waits_for_the_wrap_up(tmp_path: Path) -> None:
    runtime = await demo_runtime(tmp_path)
    ana = await agent_key(runtime, "ana")
    admin = await key_of(runtime, Role.ADMIN)

    async def ana_now() -> tuple[list[dict[str, Any]], dict[str, int]]:
        mine = await client.get("/v1/agents/me/conversations", headers=ana)
        agent = await client.get("/v1/agents/ana", headers=admin)
        return mine.json()["items"], agent.json()["load"]

    async with served(runtime) as client:
        for queue in DEMO_QUEUES:  # ten minutes of after-contact work after each close
            spec = queue.model_dump(mode="json", exclude={"queue_id"}) | {"wrap_up_s": 600}
            changed = await client.put(f"/v1/queues/{queue.queue_id}", json=spec, headers=admin)
            assert changed.status_code == 200
        await client.put("/v1/agents/me/status", json={"status": "available"}, headers=ana)
        await customer_writes(client, "I was charged twice for my order and I want a refund now!!")
        [offer] = (
            await client.get("/v1/agents/me/offers", params={"wait": 20}, headers=ana)
        ).json()["items"]
        await client.post(f"/v1/offers/{offer['id']}/accept", headers=ana)
        cid = offer["conversation_id"]
        closed_at = datetime.now(UTC)
        await client.post(f"/v1/conversations/{cid}/close", json={}, headers=ana)
        for _ in range(100):
            wrapping, load_wrapping = await ana_now()
            if wrapping and wrapping[0]["state"] == "closed":
                break
            await asyncio.sleep(0.1)

        done = await client.post(f"/v1/conversations/{cid}/wrap-up/end", headers=ana)
        for _ in range(100):
            after, load_after = await ana_now()
            if not after:
                break
            await asyncio.sleep(0.1)
        again = await client.post(f"/v1/conversations/{cid}/wrap-up/end", headers=ana)

    [item] = wrapping
    assert (item["id"], item["state"]) == (cid, "closed")
    ends = datetime.fromisoformat(item["wrap_up_until"]) - closed_at
    assert timedelta(seconds=590) < ends < timedelta(seconds=610)
    assert load_wrapping == {"chat": 1}  # the slot stays taken while she wraps up
    assert done.status_code == 202
    assert (after, load_after) == ([], {})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_an_agent_away_says_why_and_the_supervisor_sees_it(tmp_path: Path) -> None:
    runtime = await demo_runtime(tmp_path)
    ana = await agent_key(runtime, "ana")
    boss = await key_of(runtime, Role.SUPERVISOR)

    async with served(runtime) as client:
        lunch = {"status": "away", "reason": "lunch"}
        went = await client.put("/v1/agents/me/status", json=lunch, headers=ana)
        for _ in range(100):
            seen = (await client.get("/v1/agents/ana", headers=boss)).json()
            if seen["status_reason"] == "lunch":
                break
            await asyncio.sleep(0.1)
        odd = await client.put(
            "/v1/agents/me/status", json={"status": "available", "reason": "lunch"}, headers=ana
        )

    assert went.status_code == 200
    assert (seen["status"], seen["status_reason"]) == ("away", "lunch")
    assert datetime.fromisoformat(seen["status_since"]) > datetime.now(UTC) - timedelta(minutes=1)
    assert odd.status_code == 422
    assert odd.headers["content-type"] == "application/problem+json"


async def test_a_reply_sent_again_with_its_idempotency_key_reaches_the_customer_once(
    tmp_path: Path,
) -> None:
    """A desk whose request timed out cannot tell whether the reply left: it sends it
    again with the same key, and the customer reads it once."""
    runtime = await demo_runtime(tmp_path)
    ana = await agent_key(runtime, "ana")

    async with served(runtime) as client:
        await client.put("/v1/agents/me/status", json={"status": "available"}, headers=ana)
        session = await customer_writes(client, "I was charged twice and I want a refund now!!")
        visitor = {"authorization": f"Bearer {session['token']}"}
        [offer] = (
            await client.get("/v1/agents/me/offers", params={"wait": 20}, headers=ana)
        ).json()["items"]
        await client.post(f"/v1/offers/{offer['id']}/accept", headers=ana)
        messages = f"/v1/conversations/{offer['conversation_id']}/messages"

        async def reply(text: str, key: str) -> httpx.Response:
            keyed = ana | {"idempotency-key": key}
            return await client.post(messages, json={"text": text}, headers=keyed)

        sent = [await reply("Refunding it now.", "k-1") for _ in range(2)]
        other = await reply("Done: you will see it in 3 days.", "k-2")
        odd = await reply("x", "no spaces allowed")
        chat = f"/chat/v1/sessions/{session['session_id']}/messages"
        transcript: list[tuple[str, str]] = []
        seen: dict[str, str] = {}  # the widget's cursor: the last line it has
        for _ in range(40):
            page = await client.get(chat, params={"wait": "5"} | seen, headers=visitor)
            lines = page.json()["messages"]
            transcript += [(m["author"], m["text"]) for m in lines]
            seen = {"after": lines[-1]["id"]} if lines else seen
            if len(transcript) >= 3:
                break
        await asyncio.sleep(1)  # time for a second copy to arrive, if one were sent
        rest = await client.get(chat, params=seen, headers=visitor)
        at_the_desk = (await client.get(messages, headers=ana)).json()["items"]

    assert [r.status_code for r in sent] == [202, 202]
    assert sent[0].json()["id"] == sent[1].json()["id"] != other.json()["id"]
    assert transcript == [
        ("customer", "I was charged twice and I want a refund now!!"),
        ("agent", "Refunding it now."),
        ("agent", "Done: you will see it in 3 days."),
    ]
    assert rest.json()["messages"] == []
    assert [m["text"] for m in at_the_desk if m["sender"] == "agent"] == [
        "Refunding it now.",
        "Done: you will see it in 3 days.",
    ]
    assert odd.status_code == 422
    assert odd.headers["content-type"] == "application/problem+json"
