"""Engine settings that make SQLite safe with several workers.

SQLite has one writer at a time. A transaction that reads and then writes can deadlock with another
doing the same ("database is locked") unless it takes the write lock when it begins: so every
transaction starts with BEGIN IMMEDIATE (what Django's transaction_mode="IMMEDIATE" does), waits up to
busy_timeout for its turn, and WAL lets readers outside transactions carry on. PostgreSQL needs none
of this: its row locks and conditional UPDATEs do the same work.
"""
from sqlalchemy import event

from app.extensions import db


def _sqlite_connect(dbapi_connection, _record):
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(connection):
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app):
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_connect):
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
