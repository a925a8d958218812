"""The API's error shape outside its views: an address under /api/ that no endpoint answers, and a server error.

Django answers those with its HTML pages (in DEBUG, the list of every URL pattern), and a POST to an API address
without its final slash with APPEND_SLASH's redirect, which drops the body (a RuntimeError in DEBUG). An API client
gets `{"type": …, "detail": …}` as from every endpoint (config.api): the last API route (config.urls) answers every
address no endpoint does, so it also resolves before APPEND_SLASH would redirect.
"""

from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # a token client's POST to a wrong address gets this 404, not a CSRF page
def not_found(request, *args, **kwargs):
    """The last route under /api/: no endpoint here."""
    path = request.path
    if not path.endswith("/") and _is_endpoint(f"{request.path_info}/"):
        detail = _("No endpoint at %(path)s: the address ends with a slash (%(path)s/).") % {"path": path}
    else:
        detail = _("No endpoint at %(path)s: see /api/docs/ for the endpoints.") % {"path": path}
    return JsonResponse({"type": "not_found", "detail": detail}, status=404)


def _is_endpoint(path: str) -> bool:
    try:
        return resolve(path).func is not not_found
    except Resolver404:
        return False


def server_error(request):
    """handler500: JSON under /api/, the site's page elsewhere."""
    if not request.path_info.startswith("/api/"):
        return defaults.server_error(request)
    detail = _("The server could not answer this request. It has been logged; try again later.")
    return JsonResponse({"type": "server_error", "detail": detail}, status=500)
