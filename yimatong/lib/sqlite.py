"""SQLite: writers that queue for the write lock instead of polling for it."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

_thread_turn = threading.Lock()
_lock_files: dict[tuple[int, str], int] = {}  # (pid, lock file) -> descriptor, opened after any fork


@contextmanager
def write_turn(using: str = DEFAULT_DB_ALIAS) -> Iterator[bool]:
    """Wait for this process's and this host's turn to write to the SQLite database ``using``
    and hold it around one short write transaction; yields True. On any other database,
    yields False at once (its row locks need no turn).

    SQLite lets one writer in at a time and makes the others poll, sleeping 1, 2, 5, 10, 15, 20,
    25 ... 100 ms between tries: with a dozen writers the lock is mostly free while they sleep
    (the WeChat callback under WeChat's redelivery spent half its time in BEGIN). Here writers
    wait on locks that hand over as soon as they are released: the threads of a process on a
    ``threading.Lock``, the processes of the host on an ``flock`` of a file beside the database.
    Writers that do not take a turn still get in through SQLite's own lock, as before.
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        yield False
        return
    with _thread_turn:
        descriptor = _lock_file(f"{connection.settings_dict['NAME']}-writers.lock")
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)


def _lock_file(path: str) -> int:
    # A descriptor inherited through fork would be one lock shared by parent and child: each
    # process opens its own.
    key = (os.getpid(), path)
    if key not in _lock_files:
        _lock_files[key] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    return _lock_files[key]
