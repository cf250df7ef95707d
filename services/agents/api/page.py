"""The shape of every list answer: `{"items": [...], "next": <cursor or null>}`."""

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """`next` is the cursor of the following page (null while a list fits in one)."""

    items: list[T]
    next: str | None = None
