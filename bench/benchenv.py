"""What the benchmarks share: a throw-away database and its clean-up, even on Ctrl-C.

The database is a SQLite file in a temp dir, or, when DATABASE_URL points at PostgreSQL, a
database named ``bench_yimatong`` on that server (dropped afterwards). ``BenchEnv`` removes the
temp dir, stops the processes it was given and drops the database when the ``with`` block ends,
whether normally, on an exception, on Ctrl-C (SIGINT) or on SIGTERM.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BASELINE = Path(__file__).with_name("baseline.json")
BENCH_DB = os.environ.get("BENCH_DB_NAME", "bench_yimatong")  # another checkout may be benchmarking


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class BenchEnv:
    """``with BenchEnv(env="test") as bench:`` sets up Django on a fresh database in a temp dir."""

    def __init__(self, *, env: str = "test", prefix: str = "ymt-bench-"):
        self.env = env
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.admin_url = ""  # the original PostgreSQL URL, to drop the bench database from
        self.database_url = ""
        self.processes: list[subprocess.Popen[Any]] = []
        self._previous: dict[int, Any] = {}

    # Context ---------------------------------------------------------------------------------

    def __enter__(self) -> BenchEnv:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._previous[sig] = signal.signal(sig, _terminate)
        try:
            self._create_database()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.cleanup()
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)

    # Database --------------------------------------------------------------------------------

    def _create_database(self) -> None:
        os.environ["YIMATONG_ENV"] = self.env
        os.environ["YIMATONG_VAR_DIR"] = self.tmp
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith("postgres"):
            import psycopg

            self.admin_url = url
            # Same server and options (e.g. ?options=-c%20jit%3Doff), another database.
            self.database_url = urlunsplit(urlsplit(url)._replace(path="/" + BENCH_DB))
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
                admin.execute(f"CREATE DATABASE {BENCH_DB}")
        else:
            self.database_url = f"sqlite:///{self.tmp}/bench.db"
        os.environ["DATABASE_URL"] = self.database_url
        os.environ["DJANGO_SETTINGS_MODULE"] = "yimatong.settings"

    def setup_django(self) -> None:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)

    # Processes -------------------------------------------------------------------------------

    def start(self, args: list[str], *, env: dict[str, str], log: Path) -> subprocess.Popen[Any]:
        """Start a process in its own session, so that it (and its children) can be stopped by
        its id whatever happens to the terminal."""
        with log.open("wb") as out:
            process = subprocess.Popen(
                args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(process)
        return process

    @staticmethod
    def stop(process: subprocess.Popen[Any], timeout: float = 15) -> None:
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)  # the group led by the process we started
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        except ProcessLookupError:
            pass

    # Clean-up --------------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Stop the processes, close Django's connections, drop the database, remove the temp dir.
        Safe to call twice; a second Ctrl-C during clean-up does not skip the rest."""
        with _signals_ignored():
            while self.processes:
                self.stop(self.processes.pop())
            if "django" in sys.modules:
                try:
                    from django.db import connections

                    connections.close_all()
                except Exception:  # Django may not be set up yet
                    pass
            if self.admin_url:
                try:
                    import psycopg

                    with psycopg.connect(self.admin_url, autocommit=True) as admin:
                        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
                except Exception as exc:  # report it, and go on cleaning up
                    print(f"could not drop {BENCH_DB}: {exc}", file=sys.stderr)
                self.admin_url = ""
            shutil.rmtree(self.tmp, ignore_errors=True)


class _signals_ignored:
    def __enter__(self) -> None:
        self.saved = {
            sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        }

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)


# HTTP against a server a benchmark started ---------------------------------------------------------


def wait_until_answers(
    process: subprocess.Popen, port: int, path: str, log: Path, seconds: float, every: float = 0.3
) -> float:
    """Poll ``path`` on 127.0.0.1 until it answers 200; the seconds it took. Exits with the
    server's log when the server died or never answered."""
    started = time.monotonic()
    while time.monotonic() < started + seconds:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers={"Host": "127.0.0.1"})
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(every)
    raise SystemExit(f"gunicorn did not answer on port {port}:\n{log.read_text()[-3000:]}")


def response_cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    found = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            found[key.strip()] = rest.split(";", 1)[0]
    return found


def login(port: int, username: str, password: str, timeout: float = 60) -> str:
    """Sign in through the login page, as a browser does; returns the Cookie header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", "/accounts/login/", headers={"Host": "127.0.0.1"})
    response = conn.getresponse()
    page = response.read().decode()
    cookies = response_cookies(response)
    conn.close()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    form = urlencode({"csrfmiddlewaretoken": token.group(1), "username": username, "password": password})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(
        "POST",
        "/accounts/login/",
        body=form,
        headers={
            "Host": "127.0.0.1",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        },
    )
    response = conn.getresponse()
    response.read()
    cookies.update(response_cookies(response))
    conn.close()
    assert response.status == 302 and "sessionid" in cookies, f"login as {username}: {response.status}"
    return "; ".join(f"{k}={v}" for k, v in cookies.items())
