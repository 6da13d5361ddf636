"""URL routes: the notes app at /, auth at /accounts/, the admin and the health check."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from mysite.health import healthz

urlpatterns = [
    path("", include("notes.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path(settings.HEALTH_CHECK_PATH, healthz, name="healthz"),
]

# Uploaded files are served by nginx in production; static() adds nothing unless DEBUG is on.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
