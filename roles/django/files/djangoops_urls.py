"""The URLconf of the django role's settings overlay: a health endpoint, then the project's own URLconf.

The health endpoint (DJANGOOPS_HEALTH_PATH, e.g. healthz) answers 200 with the release's sha when the
database answers SELECT 1, and 503 when it does not; everything else is the project's (its error
handlers too).
"""

import logging
from importlib import import_module

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger("djangoops.health")


@never_cache
@require_safe
def health(request: HttpRequest) -> JsonResponse:
    body = {"status": "ok", "database": "ok", "git_sha": settings.DJANGOOPS_REVISION}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check failed: the database did not answer")
        body.update(status="error", database="unavailable")
        return JsonResponse(body, status=503)
    return JsonResponse(body)


_project = import_module(settings.DJANGOOPS_PROJECT_URLCONF)
urlpatterns = []
if settings.DJANGOOPS_HEALTH_PATH:
    urlpatterns.append(path(settings.DJANGOOPS_HEALTH_PATH, health, name="djangoops-health"))
urlpatterns += list(getattr(_project, "urlpatterns", []))
for _handler in ("handler400", "handler403", "handler404", "handler500"):
    if hasattr(_project, _handler):
        globals()[_handler] = getattr(_project, _handler)
