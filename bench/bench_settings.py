"""Settings for benchmarks that serve the app over HTTP: the project's settings (from the
environment, as in production), with a URLconf that adds a bare view, the floor."""

from yimatong.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
