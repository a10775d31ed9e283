"""Database errors the layers above catch, named so they need not import the database library."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

#: a unique key (or another constraint) refused a write: another transaction wrote it first
ConstraintViolation = IntegrityError

__all__ = ["ConstraintViolation"]
