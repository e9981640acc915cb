"""What a database file holds, read on a plain ``sqlite3`` connection (backups and restores)."""

from __future__ import annotations

import sqlite3

# The tables whose row counts a backup or a restore reports.
COUNTED_TABLES = ("users", "villages", "reports", "bookings")


def describe(connection: sqlite3.Connection) -> tuple[int, dict[str, int]] | None:
    """How many migrations the file has applied and how many rows its main tables hold; None
    when it is not an AuylNet database (no ``schema_migrations`` table)."""
    names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_migrations" not in names:
        return None
    migrations = connection.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    tables = {
        table: int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # fixed table names
        for table in COUNTED_TABLES
        if table in names
    }
    return int(migrations), tables
