"""The project's URLs plus ``/bench/floor/``: a bare view answering ``{"ok": true}``, through the
same server and middleware, so a benchmark can report a view's cost next to Django's own."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from yimatong import urls as project_urls


@csrf_exempt
def floor(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/floor/", floor, name="bench_floor"), *project_urls.urlpatterns]

handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
