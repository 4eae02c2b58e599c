from django.urls import path

from yimatong.investment.views import config, leads, ledger, overview, projects, work

app_name = "investment"
urlpatterns = [
    # Leads and the shared pool
    path("leads/", leads.lead_list, name="lead_list"),
    path("leads/new/", leads.lead_create, name="lead_create"),
    path("leads/<str:code>/", leads.lead_detail, name="lead_detail"),
    path("leads/<str:code>/edit/", leads.lead_edit, name="lead_edit"),
    path("leads/<str:code>/claim/", leads.lead_claim, name="lead_claim"),
    path("leads/<str:code>/assign/", leads.lead_assign, name="lead_assign"),
    path("leads/<str:code>/release/", leads.lead_release, name="lead_release"),
    path("leads/<str:code>/note/", leads.lead_note, name="lead_note"),
    path("leads/<str:code>/activities/new/", work.lead_activity_create, name="lead_activity_create"),
    path("leads/<str:code>/discard/", leads.lead_discard, name="lead_discard"),
    path("leads/<str:code>/merge/", leads.lead_merge, name="lead_merge"),
    path("leads/<str:code>/qualify/", leads.lead_qualify, name="lead_qualify"),
    # Projects
    path("projects/", projects.project_list, name="project_list"),
    path("projects/board/", projects.project_board, name="project_board"),
    path("projects/new/", projects.project_create, name="project_create"),
    path("projects/filters/save/", projects.filter_save, name="filter_save"),
    path("projects/filters/<int:pk>/delete/", projects.filter_delete, name="filter_delete"),
    path("projects/<str:code>/", projects.project_detail, name="project_detail"),
    path("projects/<str:code>/edit/", projects.project_edit, name="project_edit"),
    path("projects/<str:code>/move/", projects.project_move, name="project_move"),
    path("projects/<str:code>/contract/", projects.project_contract, name="project_contract"),
    path("projects/<str:code>/supervise/", projects.project_supervise, name="project_supervise"),
    path("projects/<str:code>/major/", projects.project_major, name="project_major"),
    path("projects/<str:code>/qr.<str:kind>", projects.project_qr, name="project_qr"),
    path("projects/<str:code>/activities/new/", work.activity_create, name="activity_create"),
    path("projects/<str:code>/visits/new/", work.visit_create, name="visit_create"),
    path("projects/<str:code>/documents/new/", work.document_create, name="document_create"),
    path(
        "projects/<str:code>/documents/<uuid:doc>/versions/new/",
        work.document_version,
        name="document_version",
    ),
    path(
        "projects/<str:code>/documents/<uuid:doc>/v<int:number>/",
        work.document_download,
        name="document_download",
    ),
    path("projects/<str:code>/capital/new/", work.capital_create, name="capital_create"),
    path("projects/<str:code>/milestones/new/", work.milestone_create, name="milestone_create"),
    path("projects/<str:code>/problems/new/", work.problem_create, name="problem_create"),
    path("projects/<str:code>/admission/", work.admission_review, name="admission_review"),
    path("milestones/<int:pk>/edit/", work.milestone_edit, name="milestone_edit"),
    path("problems/<int:pk>/edit/", work.problem_edit, name="problem_edit"),
    path("visits/<int:pk>/status/", work.visit_status, name="visit_status"),
    path("calendar/", work.visit_calendar, name="calendar"),
    # The ledger in Excel
    path("ledger/template.xlsx", ledger.ledger_template, name="ledger_template"),
    path("ledger/import/", ledger.ledger_import, name="ledger_import"),
    path("ledger/import/<uuid:code>/", ledger.ledger_import_detail, name="ledger_import_detail"),
    path("ledger/import/<uuid:code>/confirm/", ledger.ledger_import_confirm, name="ledger_import_confirm"),
    # Supervision and numbers
    path("supervision/", overview.supervision, name="supervision"),
    path("major/", overview.major_schedule, name="major"),
    path("numbers/", overview.numbers_page, name="numbers"),
    # Configuration
    path("settings/", config.settings_page, name="settings"),
    path("settings/score-items/new/", config.score_item_edit, name="score_item_create"),
    path("settings/score-items/<int:pk>/", config.score_item_edit, name="score_item_edit"),
]
