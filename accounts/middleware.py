"""The pages in the language a signed-in user chose."""

from django.utils import translation

API_PREFIX = "/api/"


class UserLanguageMiddleware:
    """Activate the signed-in user's stored language (``User.language``) for the web pages; a user without one
    follows the language switcher's cookie or the browser, as LocaleMiddleware chose. The API keeps the request's
    language (``Accept-Language``): its clients say which they want on each request.

    After AuthenticationMiddleware, which gives the user; LocaleMiddleware, before it, still writes the response's
    ``Content-Language`` from the language active then."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.language and not request.path_info.startswith(API_PREFIX):
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
