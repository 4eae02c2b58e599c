import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from yimatong.lib.env import database_from_url, env_bool, env_int, env_list, env_secret

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "YIMATONG_", "DATABASE_", "SECRET_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "raw, value", [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False), ("", False)]
)
def test_booleans_are_read_in_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG") is value


def test_a_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG")
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUM must be an integer"):
        env_int("X_NUM", 1)


def test_lists_and_secret_files(monkeypatch, tmp_path):
    monkeypatch.setenv("X_HOSTS", "a.example, b.example,,")
    assert env_list("X_HOSTS") == ["a.example", "b.example"]
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("X_KEY_FILE", str(secret))
    assert env_secret("X_KEY") == "s3cret"


def test_database_urls(tmp_path):
    pg = database_from_url(
        "postgres://ymt:p%40ss@db.local:6432/park?sslmode=require&conn_max_age=0", base_dir=tmp_path
    )
    assert (pg["ENGINE"], pg["NAME"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"]) == (
        "django.db.backends.postgresql",
        "park",
        "ymt",
        "p@ss",
        "db.local",
        "6432",
    )
    assert pg["OPTIONS"] == {"sslmode": "require", "options": "-c jit=off"} and pg["CONN_MAX_AGE"] == 0
    keeps = database_from_url("postgres://h/db?options=-c%20work_mem%3D64MB", base_dir=tmp_path)
    assert keeps["OPTIONS"] == {"options": "-c work_mem=64MB"}
    relative = database_from_url("sqlite:///var/x.db", base_dir=tmp_path)
    assert relative["NAME"] == str(tmp_path / "var" / "x.db")
    absolute = database_from_url(f"sqlite:///{tmp_path}/y.db", base_dir=Path("/elsewhere"))
    assert absolute["NAME"] == f"{tmp_path}/y.db"
    with pytest.raises(ImproperlyConfigured, match="mysql"):
        database_from_url("mysql://x/y", base_dir=tmp_path)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_foreign_keys(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    assert "journal_mode=WAL" in options["init_command"]
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 600  # the connection outlives a request
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", env={"YIMATONG_ENV": "production", "ALLOWED_HOSTS": "park.example"})
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) is required" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", env={"YIMATONG_ENV": "production", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is required" in result.stderr


def test_production_settings_pass_the_deployment_checklist(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "YIMATONG_ENV": "production",
            "SECRET_KEY": "q8Vh2-Lx9mZ_t4Rk7Pn3Ws6Yb1Cd5Fg0Jj8Ue2Oa4Ii7Kk9Mm3",
            "ALLOWED_HOSTS": "zhaoshang.example.gov.cn",
            "YIMATONG_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_the_console_script_wraps_manage_py():
    from yimatong import cli

    assert callable(cli.main)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "yimatong"), "help", "load_demo"],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "yimatong.settings_test"},
    )
    assert result.returncode == 0, result.stderr
    assert "Load the demo park" in result.stdout


def test_redis_url_makes_the_cache_shared_through_redis():
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379 (start one: redis-server --daemonize yes)")
    script = (
        "from django.core.cache import cache; from django.conf import settings; "
        "cache.set('ymt-test', 'bio-city', 30); "
        "print(settings.CACHES['default']['BACKEND'], cache.get('ymt-test'))"
    )
    result = run_manage("shell", "-c", script, env={"REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["django.core.cache.backends.redis.RedisCache", "bio-city"]
    assert redis.Redis.from_url("redis://127.0.0.1:6379/15").exists("ymt:1:ymt-test") == 1
