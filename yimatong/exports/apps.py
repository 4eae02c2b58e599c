from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    """Spreadsheets built in the background (django.tasks) and downloaded by whoever asked."""

    name = "yimatong.exports"
    label = "exports"
    verbose_name = _("导出")
