from django.urls import path

from yimatong.directory import views

app_name = "directory"
urlpatterns = [
    path("organizations/", views.organization_list, name="organization_list"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/validate/", views.organization_validate, name="organization_validate"),
    path("organizations/<uuid:code>/", views.organization_detail, name="organization_detail"),
    path("organizations/<uuid:code>/edit/", views.organization_edit, name="organization_edit"),
    path("organizations/<uuid:code>/delete/", views.organization_delete, name="organization_delete"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<uuid:code>/", views.contact_detail, name="contact_detail"),
    path("contacts/<uuid:code>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<uuid:code>/delete/", views.contact_delete, name="contact_delete"),
    path("chain/", views.chain, name="chain"),
    path("chain/new/", views.chain_node_create, name="chain_node_create"),
    path("chain/<int:pk>/edit/", views.chain_node_edit, name="chain_node_edit"),
    path("chain/<int:pk>/delete/", views.chain_node_delete, name="chain_node_delete"),
]
