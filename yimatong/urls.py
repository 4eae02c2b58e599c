from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _

from yimatong import views
from yimatong.api import api
from yimatong.investment.views import projects as project_views

admin.site.site_header = _("一码通 · 系统管理")
admin.site.site_title = _("一码通")
admin.site.index_title = _("数据字典与用户")


def _admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """One way in: the admin site sends people to the console's sign-in, which counts failures,
    locks accounts and writes the audit log."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), reverse("accounts:login"))


admin.site.login = _admin_login

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/", include("yimatong.accounts.urls")),
    path("directory/", include("yimatong.directory.urls")),
    path("exports/", include("yimatong.exports.urls")),
    path("notifications/", include("yimatong.notifications.urls")),
    path("investment/", include("yimatong.investment.urls")),
    path("services/", include("yimatong.services.urls")),
    path("stats/", include("yimatong.stats.urls")),
    path("p/<uuid:token>/", project_views.project_onecode, name="project_onecode"),
    path(
        "p/<uuid:token>/documents/<uuid:doc>/",
        project_views.project_onecode_document,
        name="project_onecode_document",
    ),
    path("", include("yimatong.wechat.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler403 = "yimatong.views.error_403"
handler404 = "yimatong.views.error_404"
handler500 = "yimatong.views.error_500"
