"""Settings come from OMNIROUTE_* environment variables."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.bus.factory import build_bus
from shared.bus.kafka import KafkaBus
from shared.bus.local import LocalBus
from shared.config import Settings


def test_the_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BUS", "DATABASE_URL", "DATA_DIR", "HOST", "PORT"):
        monkeypatch.delenv(f"OMNIROUTE_{name}", raising=False)
    settings = Settings()

    assert (settings.bus, settings.host, settings.port) == ("local", "127.0.0.1", 8000)
    assert settings.effective_database_url == (
        f"sqlite+aiosqlite:///{Path('.omniroute/omniroute.sqlite3').resolve()}"
    )
    assert isinstance(build_bus(settings), LocalBus)


def test_the_environment_selects_kafka_and_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_BUS", "kafka")
    monkeypatch.setenv("OMNIROUTE_KAFKA_BOOTSTRAP", "kafka-1:9092,kafka-2:9092")
    monkeypatch.setenv("OMNIROUTE_KAFKA_TOPIC_PREFIX", "staging.")
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", "postgresql+asyncpg://cc@db/omniroute")
    monkeypatch.setenv("OMNIROUTE_PORT", "9000")
    settings = Settings()

    bus = build_bus(settings)
    assert isinstance(bus, KafkaBus)
    assert (bus.bootstrap, bus.topic_prefix) == ("kafka-1:9092,kafka-2:9092", "staging.")
    assert settings.effective_database_url == "postgresql+asyncpg://cc@db/omniroute"
    assert settings.port == 9000


def test_a_wrong_value_is_refused_with_the_setting_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIROUTE_BUS", "rabbitmq")
    with pytest.raises(ValidationError, match="bus"):
        Settings()
