from django.urls import path

from yimatong.services import application_views, care_views, policy_views, views

app_name = "services"
urlpatterns = [
    path("demands/", views.demand_list, name="demand_list"),
    path("demands/new/", views.demand_create, name="demand_create"),
    path("demands/kpis/", views.demand_kpis, name="demand_kpis"),
    path("demands/<str:code>/", views.demand_detail, name="demand_detail"),
    path("demands/<str:code>/attachments/<int:pk>/", views.demand_attachment, name="demand_attachment"),
    path("demands/<str:code>/<slug:step>/", views.demand_step, name="demand_step"),
    path("policies/", policy_views.policy_list, name="policy_list"),
    path("policies/new/", policy_views.policy_edit, name="policy_create"),
    path("policies/preview/", policy_views.policy_preview, name="policy_preview"),
    path("policies/<slug:code>/", policy_views.policy_detail, name="policy_detail"),
    path("policies/<slug:code>/edit/", policy_views.policy_edit, name="policy_edit"),
    path("policies/<slug:code>/auto/<slug:step>/", policy_views.policy_auto, name="policy_auto"),
    path("matches/<int:pk>/not-interested/", policy_views.match_not_interested, name="match_not_interested"),
    path("policies/<slug:code>/apply/", application_views.application_start, name="application_start"),
    path("applications/", application_views.application_list, name="application_list"),
    path("applications/<str:code>/", application_views.application_detail, name="application_detail"),
    path(
        "applications/<str:code>/materials/<int:pk>/",
        application_views.application_material,
        name="application_material",
    ),
    path("applications/<str:code>/<slug:step>/", application_views.application_step, name="application_step"),
    path("plans/", care_views.plan_list, name="plan_list"),
    path("plans/new/", care_views.plan_create, name="plan_create"),
    path("plans/<int:pk>/", care_views.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/<slug:what>/", care_views.plan_change, name="plan_change"),
    path("financing/", care_views.financing_list, name="financing_list"),
    path("financing/new/", care_views.financing_create, name="financing_create"),
    path("financing/<int:pk>/", care_views.financing_detail, name="financing_detail"),
    path("financing/<int:pk>/<slug:what>/", care_views.financing_change, name="financing_change"),
    path("profile/", policy_views.profile_edit, name="profile_edit"),
    path("profile/<int:org_id>/", policy_views.profile_edit, name="profile_edit_for"),
]
