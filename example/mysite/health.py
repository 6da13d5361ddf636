"""The health endpoint the deploy tooling polls before and after switching releases."""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with the deployed commit when the database answers `SELECT 1`, 503 when it does not."""
    body = {"status": "ok", "database": "ok", "git_sha": settings.APP_GIT_SHA}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check failed: the database did not answer")
        body.update(status="error", database="unavailable")
        return JsonResponse(body, status=503)
    return JsonResponse(body)
