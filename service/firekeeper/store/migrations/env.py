"""Alembic environment for the state store.

``Store.migrate()`` passes an open connection (already in a transaction, and
holding the migration lock) in ``config.attributes["connection"]``. Run from the
alembic CLI instead, it builds an engine from ``-x url=...``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from firekeeper.area_registry import metadata as every_table
from firekeeper.store.db import make_engine

# the store's tables and every governance area's (firekeeper.area_registry)
metadata = every_table()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # with SQLAlchemy emitting BEGIN itself, SQLite DDL is transactional too
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database URL: alembic -c ... -x url=sqlite:///path/fk.db ...")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
