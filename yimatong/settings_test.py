"""Settings for the test suite: the normal settings with tasks inline and a fast hasher."""

import os
import tempfile

os.environ["YIMATONG_ENV"] = "test"
os.environ.setdefault("DEBUG", "0")

from yimatong.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not Django's shared in-memory database: threads in the concurrency tests then
    # meet SQLite's real locking (WAL, busy timeout), as the embedded deployment does.
    # One file per process, so two test runs in one checkout never share a database.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"yimatong-test-{os.getpid()}.db")
    }

# Nothing listens on port 9: an outbound WeChat call a test did not point at the fake server
# fails at once instead of reaching the internet.
WECHAT_API_BASE_URL = "http://127.0.0.1:9"
WECHAT_OPEN_BASE_URL = "http://127.0.0.1:9"
WECHAT_TIMEOUT = 2.0
WECHAT_RETRY_DELAYS = [0.0, 0.0]
