from django.urls import path

from yimatong.wechat.views import callback, codes, enterprise, inbox, portal

app_name = "wechat"
urlpatterns = [
    # WeChat's front door, one URL per official account
    path("wechat/callback/<slug:slug>/", callback.callback, name="callback"),
    # The consultation inbox
    path("wechat/inbox/", inbox.inbox, name="inbox"),
    path("wechat/inbox/unread/", inbox.inbox_unread, name="inbox_unread"),
    path("wechat/inbox/<uuid:code>/", inbox.conversation, name="conversation"),
    path("wechat/inbox/<uuid:code>/thread/", inbox.conversation_thread, name="conversation_thread"),
    path("wechat/inbox/<uuid:code>/reply/", inbox.conversation_reply, name="conversation_reply"),
    path("wechat/inbox/<uuid:code>/template/", inbox.conversation_template, name="conversation_template"),
    path("wechat/inbox/<uuid:code>/assign/", inbox.conversation_assign, name="conversation_assign"),
    path("wechat/outbound/<int:pk>/retry/", inbox.outbound_retry, name="outbound_retry"),
    # Channel codes and their funnel
    path("wechat/codes/", codes.code_list, name="code_list"),
    path("wechat/codes/new/", codes.code_create, name="code_create"),
    path("wechat/codes/compare/", codes.code_compare, name="code_compare"),
    path("wechat/codes/<int:pk>/", codes.code_detail, name="code_detail"),
    path("wechat/codes/<int:pk>/qr.<str:kind>", codes.code_image, name="code_image"),
    path("wechat/codes/<int:pk>/print/", codes.code_print, name="code_print"),
    # The investor's H5 portal
    path("h5/<slug:slug>/", portal.portal_home, name="portal_home"),
    path("h5/<slug:slug>/policies/", portal.portal_policies, name="portal_policies"),
    path("h5/<slug:slug>/articles/<slug:article>/", portal.portal_article, name="portal_article"),
    path("h5/<slug:slug>/consult/", portal.portal_consult, name="portal_consult"),
    path("h5/<slug:slug>/visit/", portal.portal_visit, name="portal_visit"),
    path("h5/<slug:slug>/me/", portal.portal_me, name="portal_me"),
    path("h5/<slug:slug>/messages/", portal.portal_messages, name="portal_messages"),
    path("h5/<slug:slug>/oauth/", portal.portal_oauth, name="portal_oauth"),
    path("h5/<slug:slug>/sign-out/", portal.portal_sign_out, name="portal_sign_out"),
    # The resident enterprise's H5 service (a bound enterprise account).
    path("h5/<slug:slug>/ent/", enterprise.ent_home, name="ent_home"),
    path("h5/<slug:slug>/ent/bind/", enterprise.ent_bind, name="ent_bind"),
    path("h5/<slug:slug>/ent/unbind/", enterprise.ent_unbind, name="ent_unbind"),
    path("h5/<slug:slug>/ent/demands/", enterprise.ent_demands, name="ent_demands"),
    path("h5/<slug:slug>/ent/demands/new/", enterprise.ent_demand_new, name="ent_demand_new"),
    path("h5/<slug:slug>/ent/demands/<str:code>/", enterprise.ent_demand, name="ent_demand"),
    path(
        "h5/<slug:slug>/ent/demands/<str:code>/attachments/<int:pk>/",
        enterprise.ent_demand_attachment,
        name="ent_demand_attachment",
    ),
    path(
        "h5/<slug:slug>/ent/demands/<str:code>/<slug:step>/",
        enterprise.ent_demand_step,
        name="ent_demand_step",
    ),
    path("h5/<slug:slug>/ent/reports/", enterprise.ent_reports, name="ent_reports"),
    path("h5/<slug:slug>/ent/reports/new/", enterprise.ent_report_new, name="ent_report_new"),
    path("h5/<slug:slug>/ent/policies/", enterprise.ent_policies, name="ent_policies"),
    path(
        "h5/<slug:slug>/ent/matches/<int:pk>/not-interested/",
        enterprise.ent_not_interested,
        name="ent_not_interested",
    ),
    path("h5/<slug:slug>/ent/policies/<slug:code>/apply/", enterprise.ent_apply, name="ent_apply"),
    path("h5/<slug:slug>/ent/applications/", enterprise.ent_applications, name="ent_applications"),
    path("h5/<slug:slug>/ent/applications/<str:code>/", enterprise.ent_application, name="ent_application"),
    path(
        "h5/<slug:slug>/ent/applications/<str:code>/materials/<int:pk>/",
        enterprise.ent_application_material,
        name="ent_application_material",
    ),
    path(
        "h5/<slug:slug>/ent/applications/<str:code>/<slug:step>/",
        enterprise.ent_application_step,
        name="ent_application_step",
    ),
]
