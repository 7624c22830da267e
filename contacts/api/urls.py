from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/contacts/", views.ContactListCreateApi.as_view(), name="api-contacts"),
    path("api/v1/contacts/<id:pk>/", views.ContactDetailApi.as_view(), name="api-contact"),
    path(
        "api/v1/contacts/<id:pk>/identities/",
        views.ContactIdentityListApi.as_view(),
        name="api-contact-identities",
    ),
    path(
        "api/v1/contacts/<id:pk>/identities/<id:identity_pk>/",
        views.ContactIdentityDetailApi.as_view(),
        name="api-contact-identity",
    ),
    path(
        "api/v1/contacts/merges/", views.ContactMergeCreateApi.as_view(), name="api-contact-merges"
    ),
    path(
        "api/v1/contacts/merges/<id:pk>/",
        views.ContactMergeDetailApi.as_view(),
        name="api-contact-merge",
    ),
    path(
        "api/v1/contacts/merges/<id:pk>/undo/",
        views.ContactMergeUndoApi.as_view(),
        name="api-contact-merge-undo",
    ),
]
