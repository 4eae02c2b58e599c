from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """In-app notifications (the bell); WeChat template messages join later through the same call."""

    name = "yimatong.notifications"
    label = "notifications"
    verbose_name = _("通知")
