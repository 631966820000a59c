"""Persistence: SQLAlchemy 2 async Core over SQLite (default) or PostgreSQL (`DATABASE_URL`)."""

from storage.database import Database

__all__ = ["Database"]
