"""The API's error shape outside its views: a URL under /api/ that no endpoint answers, and a server error.

Django answers those with its HTML pages (and, for a POST to an API address without its final slash under
APPEND_SLASH, with a redirect that drops the body, or a RuntimeError in DEBUG); an API client gets
`{"type": …, "detail": …}` as from every endpoint (config.api).
"""

from django.http import JsonResponse
from django.middleware.common import CommonMiddleware
from django.urls import is_valid_path
from django.utils.translation import gettext as _
from django.views import defaults

API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def page_not_found(request, exception):
    """handler404."""
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    path = request.path
    if not path.endswith("/") and is_valid_path(f"{request.path_info}/", getattr(request, "urlconf", None)):
        detail = _("No endpoint at %(path)s: the address ends with a slash (%(path)s/).") % {"path": path}
    else:
        detail = _("No endpoint at %(path)s: see /api/docs/ for the endpoints.") % {"path": path}
    return JsonResponse({"type": "not_found", "detail": detail}, status=404)


def server_error(request):
    """handler500."""
    if not is_api(request):
        return defaults.server_error(request)
    detail = _("The server could not answer this request. It has been logged; try again later.")
    return JsonResponse({"type": "server_error", "detail": detail}, status=500)


class ApiAwareCommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware, but an API address without its final slash is not redirected: a redirect
    drops a POST's body, so the client gets the 404 that names the address to use instead."""

    def should_redirect_with_slash(self, request):
        return not is_api(request) and super().should_redirect_with_slash(request)
