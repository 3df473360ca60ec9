from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from activities.api import api
from config import views as site_views
from config.login_limits import limit_failed_logins

urlpatterns = [
    path("healthz", site_views.healthz, name="healthz"),
    path(
        "login/",
        limit_failed_logins(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The admin's own login view, behind the same limits: matched before the admin's URLs.
    path("admin/login/", limit_failed_logins(admin.site.login)),
    path("admin/", admin.site.urls),
    path("", include("contacts.urls")),
    path("", include("activities.urls")),
    # Last: ninja also claims the empty path for itself.
    path("", api.urls),
]

handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
