from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from activities import views as activity_views
from config import views as site_views
from contacts import views as contact_views

urlpatterns = [
    path("", activity_views.home, name="home"),
    path("healthz", site_views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "workspaces/<uuid:workspace_id>/switch/",
        contact_views.switch_workspace,
        name="switch-workspace",
    ),
    path("admin/", admin.site.urls),
]

handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
