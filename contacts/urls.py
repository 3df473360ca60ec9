from django.urls import path

from contacts import views

urlpatterns = [
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/search/", views.contact_search, name="contact-search"),
    path("segments/", views.segment_list, name="segment-list"),
    path("segments/new/", views.segment_create, name="segment-create"),
    path("segments/<uuid:segment_id>/", views.segment_detail, name="segment-detail"),
    path("segments/<uuid:segment_id>/edit/", views.segment_edit, name="segment-edit"),
    path(
        "workspaces/<uuid:workspace_id>/switch/",
        views.switch_workspace,
        name="switch-workspace",
    ),
]
