from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo park: a loader written as code so later capabilities can extend it."""

    name = "yimatong.demo"
    label = "demo"
