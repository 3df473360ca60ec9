"""Settings: SQLite tuned for concurrent writers, strict env helpers, safe production."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.test.utils import CaptureQueriesContext

from config.settings import env, envbool, envint, envlist
from contacts.models import Workspace

BASE_DIR = Path(__file__).resolve().parent.parent

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="checks the default SQLite database; this run uses DATABASE_URL",
)


def run(args: list[str], **env_vars: str) -> subprocess.CompletedProcess:
    """Run Python in the project with only the given environment variables set."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env_vars}
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# SQLite


@pytest.fixture
def file_database(db, tmp_path):
    """A connection to a fresh SQLite file with the project's connection settings.

    The test database lives in memory, where WAL does not apply, so the settings are tried
    on a real file as well.
    """
    wrapper = SQLiteWrapper(
        {**connection.settings_dict, "NAME": str(tmp_path / "trail.sqlite3")}, alias="file"
    )
    yield wrapper
    wrapper.close()


def _pragma(wrapper, name: str):
    with wrapper.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


@sqlite_only
def test_sqlite_database_runs_in_wal_mode(file_database):
    assert _pragma(file_database, "journal_mode") == "wal"


@sqlite_only
def test_sqlite_writers_wait_twenty_seconds_for_the_lock(db, file_database):
    assert _pragma(connection, "busy_timeout") == 20000
    assert _pragma(file_database, "busy_timeout") == 20000


@sqlite_only
def test_sqlite_enforces_foreign_keys(db):
    assert _pragma(connection, "foreign_keys") == 1


@sqlite_only
def test_sqlite_transactions_take_the_write_lock_at_once(transactional_db):
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        Workspace.objects.exists()
    assert queries.captured_queries[0]["sql"] == "BEGIN IMMEDIATE"


@sqlite_only
def test_no_database_url_means_sqlite_in_the_project():
    assert "DATABASE_URL" not in os.environ
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"


def test_default_database_without_configuration_is_the_project_sqlite_file():
    code = (
        "from config import settings as s; d = s.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'], d['OPTIONS']['transaction_mode'])"
    )
    result = run(["-c", code])
    assert result.returncode == 0, result.stderr
    engine, name, mode = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert Path(name) == BASE_DIR / "db.sqlite3"
    assert mode == "IMMEDIATE"


KEEPS_ITS_CONNECTION = """
import io, sys, django
django.setup()
from django.db import connection
from config.wsgi import application
connection.ensure_connection()
opened = connection.connection
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http"}
answer = application(environ, lambda status, headers: None)
answer.close()  # request_finished: where Django closes connections past their age
print(connection.connection is opened)
"""


@pytest.mark.parametrize(("max_age", "kept"), [(None, "True"), ("0", "False")])
def test_a_sqlite_connection_outlives_its_request_unless_told_otherwise(tmp_path, max_age, kept):
    # A new connection costs a request its setup and its page cache (docs/benchmarks.md).
    ages = {"CONN_MAX_AGE": max_age} if max_age else {}
    result = run(
        ["-c", KEEPS_ITS_CONNECTION],
        DJANGO_SETTINGS_MODULE="config.settings",
        SQLITE_PATH=str(tmp_path / "trail.sqlite3"),
        **ages,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == kept


def test_requests_are_not_wrapped_in_one_transaction():
    assert connection.settings_dict["ATOMIC_REQUESTS"] is False


def test_django_is_at_least_5_2_5():
    assert django.VERSION[:3] >= (5, 2, 5)


# Env helpers


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False), ("TRUE", True)])
def test_envbool_reads_true_and_false(monkeypatch, value, expected):
    monkeypatch.setenv("TRAIL_TEST_FLAG", value)
    assert envbool("TRAIL_TEST_FLAG", "false") is expected


def test_envbool_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("TRAIL_TEST_FLAG", raising=False)
    assert envbool("TRAIL_TEST_FLAG", "true") is True


@pytest.mark.parametrize("value", ["1", "0", "yes", "no", "on", "", "t", "truthy"])
def test_envbool_refuses_anything_but_true_or_false(monkeypatch, value):
    monkeypatch.setenv("TRAIL_TEST_FLAG", value)
    with pytest.raises(ImproperlyConfigured, match="TRAIL_TEST_FLAG"):
        envbool("TRAIL_TEST_FLAG", "false")


def test_envint_refuses_a_non_integer(monkeypatch):
    monkeypatch.setenv("TRAIL_TEST_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="TRAIL_TEST_INT"):
        envint("TRAIL_TEST_INT", "1")
    monkeypatch.setenv("TRAIL_TEST_INT", "10")
    assert envint("TRAIL_TEST_INT", "1") == 10


def test_envlist_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("TRAIL_TEST_LIST", " a.example, ,b.example ,")
    assert envlist("TRAIL_TEST_LIST", "") == ["a.example", "b.example"]


def test_env_reads_secrets_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv("TRAIL_TEST_SECRET", "from-env")
    monkeypatch.setenv("TRAIL_TEST_SECRET_FILE", str(secret))
    assert env("TRAIL_TEST_SECRET") == "from-file"


# Production


def test_production_without_a_secret_key_refuses_to_start():
    result = run(["-c", "import config.settings"], DEBUG="false")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_a_bad_debug_value_refuses_to_start():
    result = run(["-c", "import config.settings"], DEBUG="yes")
    assert result.returncode != 0
    assert "DEBUG must be 'true' or 'false'" in result.stderr


def test_deploy_check_passes_with_production_settings():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_postgresql_prepares_nothing_however_often_a_query_runs(db):
    """A statement prepared on the server gets, after five runs, one generic plan for all
    its values; a contact's timeline wants another plan for a whale than for the average
    contact (docs/design.md, "PostgreSQL"). Parameters are bound on the client."""
    for _ in range(10):
        list(Workspace.objects.filter(slug="acme"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone() == (0,)
