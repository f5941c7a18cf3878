"""The test project's databases: SQLite in a temporary directory and a real PostgreSQL server.

PostgreSQL is the server at ``$SUPEROFFICE_WEBHOOKS_TEST_POSTGRES_URL``
(``postgresql://user:password@host:port/database``; the tests create a database of their
own there and drop it afterwards), or one started here from the ``initdb`` and ``pg_ctl``
of a local installation (Debian/Ubuntu: ``apt-get install postgresql``) in a temporary
directory, on a free port of 127.0.0.1. Running as root, it is started as the
``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import django
import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test.utils import setup_test_environment

from conftest import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

POSTGRES_URL_VARIABLE = "SUPEROFFICE_WEBHOOKS_TEST_POSTGRES_URL"
#: The test project's DATABASES as JSON, for the processes the tests start.
DATABASES_VARIABLE = "SUPEROFFICE_WEBHOOKS_TEST_DJANGO_DATABASES"
#: The database aliases of the test project: SQLite and PostgreSQL, both migrated.
ALIASES = ("default", "postgres")


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found is not None:
        return found
    # Debian keeps them out of PATH, in one directory per major version.
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


@contextlib.contextmanager
def _local_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1; its URL."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.fail(
            "The Django inbox tests need a real PostgreSQL server. Install it (Debian/Ubuntu: "
            "apt-get install postgresql; macOS: brew install postgresql) so that initdb and "
            f"pg_ctl are found, or set {POSTGRES_URL_VARIABLE} to "
            "postgresql://user:password@host:port/database of a server the tests may use."
        )
    root = Path(tempfile.mkdtemp(prefix="superoffice-webhooks-postgres-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, log, port = root / "data", root / "server.log", free_port()

    def run(*command: str) -> None:
        done = subprocess.run(  # noqa: S603  # our own command lines
            [*as_user, *command], capture_output=True, text=True, check=False
        )
        if done.returncode:
            output = log.read_text() if log.exists() else ""
            pytest.fail(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}{output}")

    run(initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    run(pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def _postgres() -> Iterator[dict[str, str]]:
    """A database of our own on the PostgreSQL server; Django's settings for it."""
    given = os.environ.get(POSTGRES_URL_VARIABLE)
    with contextlib.ExitStack() as stack:
        url = given or stack.enter_context(_local_server())
        parts = urlsplit(url)
        server = {
            "HOST": parts.hostname or "127.0.0.1",
            "PORT": str(parts.port or 5432),
            "USER": unquote(parts.username or "postgres"),
            "PASSWORD": unquote(parts.password or ""),
        }
        name = f"superoffice_webhooks_test_{uuid.uuid4().hex[:12]}"
        admin = parts._replace(path=parts.path or "/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield {**server, "NAME": name}
        finally:
            connections["postgres"].close()
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextlib.contextmanager
def use_test_databases() -> Iterator[None]:
    """Point the test project's databases at real ones and migrate them."""
    with tempfile.TemporaryDirectory() as directory, _postgres() as postgres:
        real = {
            "default": {"NAME": str(Path(directory) / "db.sqlite3")},
            "postgres": postgres,
        }
        for alias, values in real.items():
            settings.DATABASES[alias].update(values)
        os.environ[DATABASES_VARIABLE] = json.dumps(
            {
                alias: {"ENGINE": settings.DATABASES[alias]["ENGINE"], **real[alias]}
                for alias in real
            }
        )
        try:
            for alias in real:
                call_command("migrate", database=alias, run_syncdb=True, verbosity=0)
            yield
        finally:
            del os.environ[DATABASES_VARIABLE]
            connections.close_all()


def setup() -> None:
    """Configure Django with the test project's settings and its test environment, once."""
    if _done:
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_project.settings"
    django.setup()
    setup_test_environment()
    _done.append(True)


_done: list[bool] = []
