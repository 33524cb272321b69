"""Alembic migrations for the state store; run them with ``Store.migrate()``."""
