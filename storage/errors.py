"""Database errors the layers above catch, named so they need not import the database library."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError

#: a unique key (or another constraint) refused a write: another transaction wrote it first
ConstraintViolation = IntegrityError
#: the database driver raised (a refused statement, a lost connection…); its
#: ``connection_invalidated`` is true when the connection died and the pool dropped it, so the
#: work may run again on a fresh one
DriverError = DBAPIError

__all__ = ["ConstraintViolation", "DriverError"]
