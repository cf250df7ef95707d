"""Database access: SQLAlchemy 2 async engines, the project's tables, Alembic migrations."""

from shared.db.engine import create_engine, reading_engine, session_factory

__all__ = ["create_engine", "reading_engine", "session_factory"]
