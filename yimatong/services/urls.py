from django.urls import path

from yimatong.services import policy_views, views

app_name = "services"
urlpatterns = [
    path("demands/", views.demand_list, name="demand_list"),
    path("demands/new/", views.demand_create, name="demand_create"),
    path("demands/kpis/", views.demand_kpis, name="demand_kpis"),
    path("demands/<str:code>/", views.demand_detail, name="demand_detail"),
    path("demands/<str:code>/<slug:step>/", views.demand_step, name="demand_step"),
    path("policies/", policy_views.policy_list, name="policy_list"),
    path("policies/new/", policy_views.policy_edit, name="policy_create"),
    path("policies/preview/", policy_views.policy_preview, name="policy_preview"),
    path("policies/<slug:code>/", policy_views.policy_detail, name="policy_detail"),
    path("policies/<slug:code>/edit/", policy_views.policy_edit, name="policy_edit"),
    path("policies/<slug:code>/auto/<slug:step>/", policy_views.policy_auto, name="policy_auto"),
    path("matches/<int:pk>/not-interested/", policy_views.match_not_interested, name="match_not_interested"),
    path("profile/", policy_views.profile_edit, name="profile_edit"),
    path("profile/<int:org_id>/", policy_views.profile_edit, name="profile_edit_for"),
]
