"""Engine settings that make SQLite safe with several workers, and the one rule views follow for it.

SQLite has one writer at a time. A transaction that has read and then writes fails with "database is
locked" when another connection wrote in between, so a unit of work that will write must take the
write lock when it begins: views that write call begin_write() first (BEGIN IMMEDIATE, waiting up to
busy_timeout for the lock). Reads begin DEFERRED and, under WAL, never wait for writers. PostgreSQL
needs none of this (its row locks and conditional UPDATEs do the work); begin_write() costs it nothing.

The rule that goes with it: never hold the write lock while waiting on another service (WeChat, WeChat
Pay, a model). Everyone else's writes would wait behind that call, for seconds. Call the other service
first, then begin_write() and write what it answered. A view that calls out is therefore not @writes:
it calls begin_write() itself once the answer is in (auth.views.wechat_callback, orders.services).
"""
from functools import wraps

from sqlalchemy import event

from app.extensions import db

_OPTION = "sqlite_begin"


def _sqlite_connect(dbapi_connection, _record):
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _sqlite_begin(connection):
    mode = connection.get_execution_options().get(_OPTION, "DEFERRED")
    if mode is not None:  # None: a single read that needs no transaction (see read_once)
        connection.exec_driver_sql("BEGIN " + mode)


def read_once(statement):
    """The first row of one SELECT, outside any transaction: the cheapest read there is, for hot paths
    that look at one row (the QR login poll). Rows are plain, not ORM objects."""
    with db.engine.connect().execution_options(**{_OPTION: None}) as connection:
        return connection.execute(statement).first()


def begin_write():
    """Start the session's next transaction as a writing one. Ends a read transaction in progress
    (its objects are reloaded on next use)."""
    if db.session().in_transaction():
        db.session.rollback()
    db.session.connection(execution_options={_OPTION: "IMMEDIATE"})


def writes(view):
    """For views whose unit of work writes: the transaction takes the write lock up front."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        begin_write()
        return view(*args, **kwargs)
    return wrapper


def init_app(app):
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_connect):
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
