from django.urls import path

from yimatong.stats import cockpit, views

app_name = "stats"
urlpatterns = [
    path("reports/", views.report_list, name="report_list"),
    path("reports/new/", views.report_new, name="report_new"),
    path("reports/import/", views.report_import, name="report_import"),
    path("reports/import/template.xlsx", views.import_template, name="import_template"),
    path("reports/publish/", views.publish, name="publish"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("above-scale/", views.above_scale, name="above_scale"),
    path("above-scale/entrants/", views.above_scale_join, name="above_scale_join"),
    path("above-scale/exits/", views.above_scale_leave, name="above_scale_leave"),
    path("above-scale/refix/", views.above_scale_refix, name="above_scale_refix"),
    path("cockpit/", cockpit.cockpit, name="cockpit"),
    path("cockpit/bulletin/", cockpit.bulletin, name="bulletin"),
    path("cockpit/data/<slug:panel>.xlsx", cockpit.panel_data, name="panel_data"),
    path("exports/activity.<str:fmt>", cockpit.activity_feed, name="activity_feed"),
    path("exports/projects.<str:fmt>", cockpit.project_list, name="project_list"),
]
