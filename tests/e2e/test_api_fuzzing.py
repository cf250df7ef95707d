"""Schema-driven fuzzing (schemathesis) of every operation `omniroute run` publishes in
its OpenAPI: whatever a client sends, the answer is never a 5xx.

Each generated request goes out twice, with an admin key and with an agent key, so the
agent desktop's endpoints are fuzzed past their role check too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation
from schemathesis.core.result import Ok

from services.agents.auth import new_key
from tests.processes import OmnirouteProcess, run_cli

EXAMPLES = 25
SECRETS = (
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "TWITTER_CONSUMER_SECRET",
    "MAILGUN_SIGNING_KEY",
    "POSTMARK_BASIC_AUTH",
    "SENDGRID_BASIC_AUTH",
    "EMAIL_MIME_TOKEN",
    "TELEGRAM_SECRET_TOKEN",
)


@dataclass(frozen=True)
class Running:
    process: OmnirouteProcess
    keys: tuple[str, ...]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data = tmp_path_factory.mktemp("fuzzed")
    admin = new_key()
    env = {
        "OMNIROUTE_DATA_DIR": str(data),
        "OMNIROUTE_BOOTSTRAP_ADMIN_KEY": admin,
        # Every webhook open (an unset secret closes it with a 503 on purpose), so the
        # fuzzing reaches their signature checks and parsers.
        **{f"OMNIROUTE_{name}": "fuzz-secret" for name in SECRETS},
    }
    process = OmnirouteProcess("run", env, data / "omniroute.log")
    try:
        process.wait_until_ready()
        agent = run_cli(["keys", "create", "--role", "agent", "--agent", "ana"], env).splitlines()[
            -1
        ]
        yield Running(process, (admin, agent))
    finally:
        process.kill()


def test_no_request_makes_the_api_fail(running: Running) -> None:
    base_url = running.process.base_url
    api = schemathesis.openapi.from_url(base_url + "/openapi.json")
    operations = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), f"an operation of our OpenAPI is invalid: {result.err()}"
        operations.append(result.ok())
    failures: list[str] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case[APIOperation[Any, Any, Any, Any]]) -> None:
            if case.query and "wait" in case.query:
                case.query["wait"] = 0  # long polls would only make the run slow
            for key in running.keys:
                response = case.call(base_url=base_url, headers={"authorization": f"Bearer {key}"})
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query} -> "
                        f"{response.status_code}: {response.text[:300]}"
                    )

        fuzz()

    print(f"fuzzed {len(operations)} operations, {EXAMPLES} examples each, with 2 keys")
    assert len(operations) > 30
    assert not failures, "\n".join(failures[:20])
    assert "Traceback" not in running.process.output()
