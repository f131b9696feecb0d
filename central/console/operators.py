"""Operator accounts: create one, seed the first administrator, check a login.

Command line (``python -m central.console.operators`` or ``vigifeu operator`` once registered)::

    vigifeu operator --db sqlite:///var/vigifeu.sqlite3 add jdupont --name "J. Dupont" [--admin]

The password is read from ``VIGIFEU_NEW_PASSWORD`` when set, else asked twice on the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console.auth import hash_password, verify_password
from central.db import Operator, make_engine, make_session_factory, utc_now

logger = logging.getLogger(__name__)

ROLES = ("operator", "admin")


class OperatorExists(ValueError):
    pass


def create_operator(
    session: Session, username: str, display_name: str, password: str, role: str = "operator"
) -> Operator:
    """Add an operator (does not commit); raises OperatorExists or ValueError (weak password)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if session.scalar(select(Operator).where(Operator.username == username)) is not None:
        raise OperatorExists(f"operator {username!r} already exists")
    operator = Operator(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        is_active=True,
    )
    session.add(operator)
    session.flush()
    return operator


def ensure_admin(session: Session, username: str, password: str) -> bool:
    """Create the administrator ``username`` unless it exists; True when created."""
    if session.scalar(select(Operator).where(Operator.username == username)) is not None:
        return False
    create_operator(session, username, username, password, role="admin")
    logger.info("created the first administrator %r", username)
    return True


def authenticate(session: Session, username: str, password: str) -> Operator | None:
    """The active operator with these credentials, with ``last_login_at`` updated; else None."""
    operator = session.scalar(select(Operator).where(Operator.username == username))
    if operator is None or not operator.is_active:
        # Hash anyway so that a wrong name costs as long as a wrong password.
        verify_password(password, hash_password("x" * 16))
        return None
    if not verify_password(password, operator.password_hash):
        return None
    operator.last_login_at = utc_now()
    return operator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of the central database")
    commands = parser.add_subparsers(dest="action", required=True)
    add = commands.add_parser("add", help="create an operator account")
    add.add_argument("username")
    add.add_argument("--name", default=None, help="display name (default: the username)")
    add.add_argument("--admin", action="store_true")


def _password() -> str:
    from_env = os.environ.get("VIGIFEU_NEW_PASSWORD")
    if from_env:
        return from_env
    first = getpass.getpass("mot de passe : ")
    if first != getpass.getpass("confirmation : "):
        raise ValueError("the two passwords differ")
    return first


def run(args: argparse.Namespace) -> int:
    session_factory = make_session_factory(make_engine(args.db))
    try:
        with session_factory.begin() as session:
            create_operator(
                session,
                args.username,
                args.name or args.username,
                _password(),
                role="admin" if args.admin else "operator",
            )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201 - command output
        return 1
    print(f"operator {args.username} created")  # noqa: T201 - command output
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m central.console.operators")
    add_arguments(parser)
    sys.exit(run(parser.parse_args()))
