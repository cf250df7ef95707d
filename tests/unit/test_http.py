"""Errors reach clients as RFC 9457 problem+json."""

from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

from services.agents.app import create_app
from shared.bus.local import LocalBus
from shared.config import Settings
from shared.http import PROBLEM_JSON, install_problem_handlers
from shared.runtime import bootstrap
from tests.asgi import serve


async def test_an_unknown_path_is_a_problem_document(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    app = create_app(bootstrap(settings, bus=LocalBus(tmp_path / "bus.sqlite3")))
    async with serve(app) as client:
        response = await client.get("/v1/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "Not Found",
    }


class Queue(BaseModel):
    name: str
    priority: int


async def test_a_validation_error_names_the_field() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/queues")
    async def create(queue: Queue) -> Queue:
        return queue

    async with serve(app) as client:
        response = await client.post("/queues", json={"name": "billing", "priority": "high"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["title"] == "Unprocessable Content"
    assert body["errors"] == [
        {
            "field": "body.priority",
            "message": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]
