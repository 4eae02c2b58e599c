from django.urls import path

from yimatong.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.export_list, name="list"),
    path("new/", views.export_create, name="create"),
    path("<uuid:code>/download/", views.export_download, name="download"),
]
