"""The web pages in a real browser (Debian's Chromium, headless, driven by Playwright):
a customer writes in the web chat widget, the supervisor's wallboard shows the waiting
conversation, the agent takes it at the desk by keyboard and replies, the customer's
widget shows the reply, and the wallboard shows the change. Screenshots of each page go
to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, ViewportSize, expect, sync_playwright

from services.agents.auth import new_key
from services.agents.demo import DEMO_QUEUES
from tests.processes import ROOT, OmnirouteProcess, run_cli

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SCREEN: ViewportSize = {"width": 1366, "height": 768}
# Chromium on a machine with no internet: no background traffic, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
COMPLAINT = "I was charged twice, this is fraud and I want my money back now!!"


@dataclass(frozen=True)
class Desk:
    url: str
    admin: str
    supervisor: str
    ana: str
    ben: str
    chen: str


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium, installed by the test setup when missing."""
    found = subprocess.run(
        ["bash", str(ROOT / "deploy/local/chromium.sh")], check=True, capture_output=True, text=True
    )
    return found.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    data = tmp_path_factory.mktemp("browser")
    env = {"OMNIROUTE_DATA_DIR": str(data), "OMNIROUTE_BOOTSTRAP_ADMIN_KEY": new_key()}
    process = OmnirouteProcess("run", env, data / "omniroute.log")
    try:
        process.wait_until_ready()
        supervisor = run_cli(["keys", "create", "--role", "supervisor"], env).split()[-1]
        ana = run_cli(["keys", "create", "--role", "agent", "--agent", "ana"], env).split()[-1]
        ben = run_cli(["keys", "create", "--role", "agent", "--agent", "ben"], env).split()[-1]
        chen = run_cli(["keys", "create", "--role", "agent", "--agent", "chen"], env).split()[-1]
        admin = env["OMNIROUTE_BOOTSTRAP_ADMIN_KEY"]
        yield Desk(process.base_url, admin, supervisor, ana, ben, chen)
    finally:
        process.kill()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def open_page(
    browser: Browser, url: str, locale: str = "en-GB", timezone: str = "Europe/London"
) -> Page:
    return browser.new_context(
        viewport=SCREEN, locale=locale, timezone_id=timezone, base_url=url
    ).new_page()


def sign_in(page: Page, path: str, key: str) -> None:
    """By keyboard: the key field, then Enter."""
    page.goto(path)
    page.get_by_label("API key").fill(key)
    page.keyboard.press("Enter")


def test_a_chat_reaches_the_desk_and_the_wallboard_follows(browser: Browser, desk: Desk) -> None:
    customer = open_page(browser, desk.url)
    customer.goto("/chat/demo")
    customer.get_by_role("textbox").fill(COMPLAINT)
    customer.keyboard.press("Enter")
    expect(customer.locator('li[data-author="customer"]')).to_have_text(COMPLAINT)

    wallboard = open_page(browser, desk.url)
    sign_in(wallboard, "/wallboard/", desk.supervisor)
    fraud = wallboard.locator("#tile-fraud")
    expect(fraud.locator(".big")).to_have_text(re.compile(r"^1 waiting"), timeout=15_000)
    expect(fraud).to_have_attribute("aria-label", re.compile("Fraud & security: 1 waiting"))
    expect(wallboard.get_by_role("cell", name="Ana García")).to_be_visible()
    expect(wallboard.locator("#csat")).to_have_text("—")  # no survey answered yet today
    wallboard.screenshot(path=SCREENSHOTS / "wallboard-waiting.png")

    # A desk six hours from UTC counts down the queue's 30 s all the same.
    agent = open_page(browser, desk.url, timezone="America/Mexico_City")
    sign_in(agent, "/desk/", desk.ana)
    agent.get_by_role("radio", name="Available", exact=True).check()
    expect(agent.locator("#offer")).to_be_visible(timeout=15_000)
    expect(agent.locator("#offer .preview")).to_have_text(COMPLAINT)
    expect(agent.locator("#offer .who")).to_contain_text("Complexity: high")
    expect(agent.locator("#offer .countdown")).to_have_text(
        re.compile(r"^([1-9]|[12]\d|30) s left to accept$")
    )
    agent.screenshot(path=SCREENSHOTS / "desk-offer.png")
    expect(agent.get_by_role("button", name="Accept")).to_be_focused()
    agent.keyboard.press("Enter")  # the offer took the focus: Enter accepts it

    expect(agent.locator("#transcript li").first).to_contain_text(COMPLAINT, timeout=15_000)
    expect(agent.locator("#about")).to_contain_text("mentions a chargeback")
    agent.get_by_label("Reply").fill("Hi, I am refunding the second charge now.")
    agent.get_by_role("button", name="Send").click()
    expect(agent.locator('#transcript li[data-sender="agent"]')).to_contain_text(
        "refunding the second charge", timeout=15_000
    )
    agent.screenshot(path=SCREENSHOTS / "desk-conversation.png")

    expect(customer.locator('li[data-author="agent"]')).to_have_text(
        "Hi, I am refunding the second charge now.", timeout=30_000
    )
    customer.screenshot(path=SCREENSHOTS / "chat-widget.png")
    expect(fraud.locator(".big")).to_have_text(re.compile(r"^0 waiting"), timeout=15_000)
    expect(wallboard.locator("#agents")).to_contain_text("Available")
    wallboard.screenshot(path=SCREENSHOTS / "wallboard-answered.png")


def test_a_transfer_note_is_shown_at_the_next_agents_desk(browser: Browser, desk: Desk) -> None:
    note = "Second charge is the hotel deposit; she wants it back."
    customer = open_page(browser, desk.url)
    customer.goto("/chat/demo")
    customer.get_by_role("textbox").fill(COMPLAINT)
    customer.keyboard.press("Enter")

    ana = open_page(browser, desk.url)
    sign_in(ana, "/desk/", desk.ana)
    ana.get_by_role("radio", name="Available", exact=True).check()
    ana.get_by_role("button", name="Accept").click(timeout=15_000)
    expect(ana.locator("#transcript li").first).to_contain_text(COMPLAINT, timeout=15_000)
    ana.get_by_label("Transfer to").select_option("queue:billing")
    ana.get_by_label("Note for the next agent").fill(note)
    ana.get_by_role("button", name="Transfer").click()
    expect(ana.locator("#conversation")).to_be_hidden()

    ben = open_page(browser, desk.url)
    sign_in(ben, "/desk/", desk.ben)
    ben.get_by_role("radio", name="Available", exact=True).check()
    ben.get_by_role("button", name="Accept").click(timeout=15_000)
    expect(ben.locator("#about")).to_contain_text(f"Transferred by ana: {note}", timeout=15_000)
    ben.screenshot(path=SCREENSHOTS / "desk-transfer-note.png")


def test_a_customer_who_ends_the_chat_leaves_the_queue(browser: Browser, desk: Desk) -> None:
    customer = open_page(browser, desk.url)
    customer.goto("/chat/demo")
    end = customer.get_by_role("button", name="End chat")
    expect(end).to_be_hidden()  # nothing to end before the first message
    customer.get_by_role("textbox").fill("My account was hacked and money is missing!!")
    customer.keyboard.press("Enter")
    expect(customer.locator('li[data-author="customer"]')).to_have_count(1)
    end.click()
    expect(customer.locator("li")).to_have_count(0)

    supervisor = {"authorization": f"Bearer {desk.supervisor}"}
    abandoned: list[dict[str, str]] = []
    deadline = time.monotonic() + 15
    while not abandoned and time.monotonic() < deadline:
        page = httpx.get(f"{desk.url}/v1/conversations?state=abandoned", headers=supervisor)
        abandoned = page.json()["items"]
        time.sleep(0.2)
    assert len(abandoned) == 1
    expect(end).to_be_hidden()

    wallboard = open_page(browser, desk.url)
    sign_in(wallboard, "/wallboard/", desk.supervisor)
    tile = wallboard.locator(f"#tile-{abandoned[0]['queue_id']}")
    expect(
        tile.locator("dt", has_text="Abandoned today").locator("xpath=following-sibling::dd[1]")
    ).to_have_text(re.compile(r"^[1-9]\d*%$"), timeout=15_000)
    wallboard.screenshot(path=SCREENSHOTS / "wallboard-abandoned.png")


def test_after_a_close_the_desk_holds_the_wrap_up_until_the_agent_is_done(
    browser: Browser, desk: Desk
) -> None:
    fraud = next(q for q in DEMO_QUEUES if q.queue_id == "fraud")
    spec = fraud.model_dump(mode="json", exclude={"queue_id"}) | {"wrap_up_s": 600}
    admin = {"authorization": f"Bearer {desk.admin}"}
    assert httpx.put(f"{desk.url}/v1/queues/fraud", json=spec, headers=admin).status_code == 200
    chen = open_page(browser, desk.url)
    sign_in(chen, "/desk/", desk.chen)
    # First: the least busy agent gets the offer.
    chen.get_by_role("radio", name="Available", exact=True).check()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if httpx.get(f"{desk.url}/v1/agents/chen", headers=admin).json()["status"] == "available":
            break
        time.sleep(0.2)
    customer = open_page(browser, desk.url)
    customer.goto("/chat/demo")
    customer.get_by_role("textbox").fill(COMPLAINT)
    customer.keyboard.press("Enter")

    chen.get_by_role("button", name="Accept").click(timeout=15_000)
    expect(chen.locator("#transcript li").first).to_contain_text(COMPLAINT, timeout=15_000)
    chen.get_by_role("button", name="Close").click()

    wrapping = chen.locator("#wrapup-list li")
    expect(wrapping).to_have_count(1, timeout=15_000)
    expect(wrapping).to_contain_text(re.compile(r"(9:[0-5]\d|10:00) left"))
    expect(chen.locator("#empty")).to_be_visible()  # no longer among her conversations
    wrapping.get_by_role("button", name=re.compile("^Chat")).click()  # to read it back
    expect(chen.locator("#transcript li").first).to_contain_text(COMPLAINT)
    expect(chen.get_by_role("button", name="Send")).to_be_hidden()  # closed: read only
    chen.screenshot(path=SCREENSHOTS / "desk-wrap-up.png")
    load = httpx.get(f"{desk.url}/v1/agents/chen", headers=admin).json()["load"]
    assert load == {"chat": 1}  # the closed chat's slot, held for the wrap-up

    chen.get_by_role("button", name=re.compile("^Done with the after-contact work")).click()
    expect(chen.locator("#wrapups")).to_be_hidden()
    deadline = time.monotonic() + 15
    while load and time.monotonic() < deadline:
        time.sleep(0.2)
        load = httpx.get(f"{desk.url}/v1/agents/chen", headers=admin).json()["load"]
    assert load == {}

    # She writes again: a new conversation, and the desk shows the one before it.
    for other in (desk.ana, desk.ben):  # Chen takes it
        away = {"status": "away"}
        httpx.put(f"{desk.url}/v1/agents/me/status", json=away, headers=bearer(other))
    customer.get_by_role("textbox").fill("Me again: the refund has not arrived")
    customer.keyboard.press("Enter")
    chen.get_by_role("button", name="Accept").click(timeout=15_000)
    expect(chen.locator("#transcript li").first).to_contain_text("Me again", timeout=15_000)
    earlier = chen.locator("#earlier")
    expect(earlier).to_contain_text(re.compile(r"Earlier:.* · Chat · resolved \(chen\)"))

    # The earlier conversation cannot be fetched: the desk says why and stays on the one
    # she holds, so that her reply goes there (it went to the one that failed to open).
    failed: list[str] = []

    def unavailable_once(route: Route) -> None:
        if failed:
            route.continue_()
            return
        failed.append(route.request.url)
        problem = {"title": "Service Unavailable", "status": 503, "detail": "try again shortly"}
        route.fulfill(status=503, content_type="application/problem+json", json=problem)

    one_conversation = re.compile(r"/v1/conversations/[^/?]+$")
    chen.route(one_conversation, unavailable_once)
    earlier.get_by_role("button").click()
    expect(chen.locator("#notice")).to_have_text("try again shortly", timeout=10_000)
    expect(chen.locator("#transcript li").first).to_contain_text("Me again")
    chen.unroute(one_conversation)
    chen.get_by_role("textbox", name=re.compile("Reply")).fill("Checking the refund now")
    chen.get_by_role("button", name="Send").click()
    expect(customer.locator('li[data-author="agent"]').last).to_contain_text(
        "Checking the refund now", timeout=15_000
    )

    def after_a_list_refresh(route: Route) -> None:  # the desk refreshes it every 3 s
        time.sleep(3.5)
        route.continue_()

    # The earlier conversation answers slowly: the refresh that comes first (in no list,
    # it is read back) must not close the view it is opening.
    chen.route(one_conversation, after_a_list_refresh)
    earlier.get_by_role("button").click()
    expect(chen.locator("#transcript li").first).to_contain_text(COMPLAINT, timeout=10_000)
    expect(chen.locator("#conversation")).to_be_visible()
    chen.unroute(one_conversation)
    expect(chen.get_by_role("button", name="Send")).to_be_hidden()

    # Off to lunch: the supervisor sees why, and for how long.
    chen.get_by_label("Reason").select_option("lunch")
    expect(chen.get_by_role("radio", name="Away", exact=True)).to_be_checked()
    wallboard = open_page(browser, desk.url)
    sign_in(wallboard, "/wallboard/", desk.supervisor)
    expect(wallboard.get_by_role("row", name=re.compile("Chen Wei"))).to_contain_text(
        re.compile(r"Away \(lunch\) · "), timeout=15_000
    )
    wallboard.screenshot(path=SCREENSHOTS / "wallboard-away-reason.png")


def test_the_pages_speak_spanish_to_a_spanish_browser(browser: Browser, desk: Desk) -> None:
    page = open_page(browser, desk.url, locale="es-ES")
    page.goto("/desk/")
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    sign_in_spanish = page.get_by_label("Clave de API")
    sign_in_spanish.fill(desk.supervisor)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Esta página necesita una clave de agent.")
    page.goto("/wallboard/")
    page.get_by_label("Clave de API").fill(desk.supervisor)
    page.keyboard.press("Enter")
    expect(page.locator("#tile-general")).to_contain_text("Nivel de servicio (15 min)")
    page.screenshot(path=SCREENSHOTS / "wallboard-es.png")
