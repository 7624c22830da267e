from django.contrib import admin
from django.urls import include, path

from conversations.views import AgentLoginView, AgentLogoutView

from . import views

handler404 = "contactcenter.api.errors.handler404"
handler500 = "contactcenter.api.errors.handler500"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/login/", AgentLoginView.as_view(), name="login"),
    path("accounts/logout/", AgentLogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("contactcenter.api.urls")),
    path("", include("channels_app.urls")),
    path("", include("conversations.urls")),
    path("", include("contacts.urls")),
    path("", include("contacts.api.urls")),
    path("", include("conversations.api.urls")),
    path("", include("conversations.contact_urls")),
]
