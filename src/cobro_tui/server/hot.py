"""Statements of the push's hot path, run on the driver's own cursor.

A push of 1,000 commands runs some 16,000 small statements; SQLAlchemy's execution machinery
(compiled-cache lookup, parameter processing, events, result wrapping) costs several times what
SQLite itself spends on each. A `Hot` statement is still written with SQLAlchemy Core, compiled once
per dialect and parameter set, and then handed straight to the DBAPI cursor of the connection's
transaction (the same transaction and savepoints: the statement text is all that bypasses the
engine). Only for columns without type processing (the server's text and integer columns).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import Executable


class Hot:
    """One Core statement, compiled per (dialect, parameter names) on first use."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def _text(self, conn: Connection, names: tuple[str, ...]) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        key = (conn.dialect.name, names)
        found = self._compiled.get(key)
        if found is None:
            compiled = self.statement.compile(dialect=conn.dialect, column_keys=list(names))  # type: ignore[attr-defined]
            fixed = {name: bind.effective_value for name, bind in compiled.binds.items() if name not in names}
            order = tuple(compiled.positiontup) if conn.dialect.positional else None
            found = self._compiled[key] = (compiled.string, order, fixed)
        return found

    def _cursor(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        sql, order, fixed = self._text(conn, tuple(params))
        values = {**fixed, **params} if fixed else params
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(sql, tuple(values[name] for name in order) if order is not None else values)
        return cursor

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute; the number of rows it changed."""
        cursor = self._cursor(conn, params)
        count = cursor.rowcount
        cursor.close()
        return int(count)

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row (fields by name) or None."""
        cursor = self._cursor(conn, params)
        row = cursor.fetchone()
        if row is None:
            cursor.close()
            return None
        shape = _shape(tuple(column[0] for column in cursor.description))
        cursor.close()
        return shape._make(row)

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None."""
        cursor = self._cursor(conn, params)
        row = cursor.fetchone()
        cursor.close()
        return None if row is None else row[0]

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row (fields by name)."""
        cursor = self._cursor(conn, params)
        rows = cursor.fetchall()
        shape = _shape(tuple(column[0] for column in cursor.description)) if cursor.description else None
        cursor.close()
        return [shape._make(row) for row in rows] if shape is not None else []


_SHAPES: dict[tuple[str, ...], Any] = {}


def _shape(names: tuple[str, ...]) -> Any:
    shape = _SHAPES.get(names)
    if shape is None:
        shape = _SHAPES[names] = namedtuple("Row", names, rename=True)
    return shape


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """A savepoint inside the connection's transaction, in plain SQL on the driver's cursor: what the
    block writes is undone if it raises (the exception goes on), kept otherwise. SQLAlchemy's nested
    transaction does the same at several times the cost, which a push pays once per command."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute("SAVEPOINT cobro_push")
    try:
        yield
    except BaseException:
        cursor.execute("ROLLBACK TO SAVEPOINT cobro_push")
        cursor.execute("RELEASE SAVEPOINT cobro_push")
        cursor.close()
        raise
    cursor.execute("RELEASE SAVEPOINT cobro_push")
    cursor.close()
