"""lib.sqlite.write_turn: on SQLite, writers of this host take turns (threads and processes);
elsewhere it is a no-op."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from yimatong.lib.sqlite import write_turn

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


@sqlite_only
@pytest.mark.django_db
def test_threads_never_hold_the_turn_at_the_same_time():
    inside: list[int] = []
    overlaps: list[int] = []

    def writer(n: int) -> None:
        for _ in range(20):
            with write_turn() as queued:
                assert queued
                if inside:
                    overlaps.append(n)
                inside.append(n)
                time.sleep(0.0005)
                inside.remove(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert overlaps == []


@sqlite_only
@pytest.mark.django_db
def test_a_writer_waits_while_another_process_holds_the_turn():
    path = f"{connection.settings_dict['NAME']}-writers.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys\n"
            f"fd = os.open({path!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        entered = threading.Event()

        def writer() -> None:
            with write_turn():
                entered.set()

        thread = threading.Thread(target=writer)
        thread.start()
        assert not entered.wait(0.5)  # the other process has the turn
        holder.stdin.write("release\n")
        holder.stdin.flush()
        assert entered.wait(30)
        thread.join(30)
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.skipif(connection.vendor == "sqlite", reason="not SQLite")
@pytest.mark.django_db
def test_other_databases_need_no_turn():
    with write_turn() as queued:
        assert queued is False
