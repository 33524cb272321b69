"""A set of keys bound as one parameter: ``column = ANY(:name)`` on PostgreSQL, an
expanding ``column IN (:name)`` on SQLite.

    sa.select(members).where(any_of(members.c.chat_pk, "b_pks"))
    conn.execute(stmt, {"b_pks": [1, 2, 3]})

An expanding ``IN`` renders one placeholder per value, so on PostgreSQL each size
of the set is a statement text of its own: psycopg parses it again (it keeps the
conversion of statements under 4 KB and 50 parameters only) and the server plans
it again. ``= ANY`` of one array keeps the text the same for every batch: psycopg
keeps its conversion and prepares it on the server once it has run a few times
(its ``prepare_threshold``). SQLite has no arrays, and its ``IN`` list searches
the column's index for each value (``tests/store/test_query_plans.py``).
"""

from __future__ import annotations

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


@compiles(AnyOf)
def _expanding_in(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    in_list = element.column.in_(sa.bindparam(element.name, expanding=True))
    return compiler.process(in_list, **kw)


@compiles(AnyOf, "postgresql")
def _any_array(element: AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    array = sa.bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == sa.any_(array), **kw)
