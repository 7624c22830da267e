from django.urls import path

from . import views

urlpatterns = [
    path("contacts/", views.contact_list, name="contact-list"),
    path("contacts/new/", views.contact_create, name="contact-create"),
    path("contacts/export.csv", views.contacts_export, name="contact-export"),
    path("contacts/import/", views.import_upload, name="contact-import-upload"),
    path("contacts/import/<int:pk>/", views.import_detail, name="contact-import"),
    path(
        "contacts/import/<int:pk>/rejected.csv",
        views.import_rejected_csv,
        name="contact-import-rejected",
    ),
    path("contacts/merges/<int:pk>/undo/", views.merge_undo, name="contact-merge-undo"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact-detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/identities/", views.identity_add, name="contact-identity-add"),
    path(
        "contacts/<int:pk>/identities/<int:identity_pk>/remove/",
        views.identity_remove,
        name="contact-identity-remove",
    ),
    path("contacts/<int:pk>/merge/", views.merge_pick, name="contact-merge-pick"),
    path(
        "contacts/<int:pk>/merge/<int:other_pk>/", views.merge_preview, name="contact-merge-preview"
    ),
]
