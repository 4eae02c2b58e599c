"""Settings for the test suite: the normal settings with tasks inline and a fast hasher."""

import os

os.environ["YIMATONG_ENV"] = "test"
os.environ.setdefault("DEBUG", "0")

from yimatong.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
