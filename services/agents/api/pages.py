"""The agent desk (/desk/) and the supervisor wallboard (/wallboard/): static pages of
plain JavaScript over the /v1/ API, with no build step. They hold no secret: the
API key is typed in and kept in the browser tab's session storage."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).resolve().parents[1] / "static"
ASSETS = {
    "common.js": "text/javascript",
    "desk.js": "text/javascript",
    "wallboard.js": "text/javascript",
    "style.css": "text/css",
}

router = APIRouter(include_in_schema=False)


@router.get("/desk")
async def desk_without_slash() -> RedirectResponse:
    return RedirectResponse("/desk/")


@router.get("/wallboard")
async def wallboard_without_slash() -> RedirectResponse:
    return RedirectResponse("/wallboard/")


@router.get("/desk/")
async def desk() -> FileResponse:
    return FileResponse(STATIC / "desk.html", media_type="text/html")


@router.get("/wallboard/")
async def wallboard() -> FileResponse:
    return FileResponse(STATIC / "wallboard.html", media_type="text/html")


@router.get("/ui/{name}")
async def asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(404, f"no asset {name!r}")
    return FileResponse(STATIC / name, media_type=ASSETS[name])
