from django.urls import path

from yimatong.services import views

app_name = "services"
urlpatterns = [
    path("demands/", views.demand_list, name="demand_list"),
    path("demands/new/", views.demand_create, name="demand_create"),
    path("demands/kpis/", views.demand_kpis, name="demand_kpis"),
    path("demands/<str:code>/", views.demand_detail, name="demand_detail"),
    path("demands/<str:code>/<slug:step>/", views.demand_step, name="demand_step"),
]
