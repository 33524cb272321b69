"""A set of keys bound as one parameter: ``column = ANY(:name)`` on PostgreSQL,
``column IN (SELECT value FROM json_each(:name))`` on SQLite.

    sa.select(members).where(any_of(members.c.chat_pk, "b_pks"))
    conn.execute(stmt, {"b_pks": [1, 2, 3]})

An expanding ``IN`` renders one placeholder per value, so on PostgreSQL each size
of the set is a statement text of its own: psycopg parses it again (it keeps the
conversion of statements under 4 KB and 50 parameters only) and the server plans
it again. ``= ANY`` of one array keeps the text the same for every batch: psycopg
keeps its conversion and prepares it on the server once it has run a few times
(its ``prepare_threshold``). SQLite has no arrays: the set is bound as one JSON
array, read back by ``json_each``, and SQLite searches the column's index for each
value of that list as it does for an ``IN (..)`` list (``tests/store/test_query_plans.py``).
An expanding ``IN`` would cost as much on SQLite: SQLAlchemy renders the statement's
text again at every execution (its placeholders for that many values), about a third
of a batch of one's statement overhead, and the sqlite3 module prepares each new text
again. One JSON text keeps the statement the same for every batch.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType


class AnyOf(ColumnElement[bool]):
    """``column`` is one of the values bound as ``name`` (a list; empty matches nothing)."""

    __visit_name__ = "firekeeper_any_of"
    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012  (SQLAlchemy's own shape)
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a comparison: no "= 1" after it on SQLite

    def __init__(self, column: sa.ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


def any_of(column: sa.ColumnElement[Any], name: str) -> AnyOf:
    """See the module's docstring."""
    return AnyOf(column, name)


class _JsonList(sa.TypeDecorator[list[Any]]):
    """A list of keys (strings or integers) bound as one JSON array text."""

    impl = sa.String
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str | bytes):  # a string is not a set of keys
            raise TypeError(f"a set of keys is a list, not {type(value).__name__}")
        return json.dumps(list(value), separators=(",", ":"))


@compiles(AnyOf)
def _json_each(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    values = compiler.process(sa.bindparam(element.name, type_=_JsonList()), **kw)
    return f"{column} IN (SELECT value FROM json_each({values}))"


@compiles(AnyOf, "postgresql")
def _any_array(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    array = sa.bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == sa.any_(array), **kw)
