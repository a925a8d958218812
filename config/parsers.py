"""The API's JSON parser (its own module: the REST framework's settings import it while loading)."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, where a body nested deeper than Python can decode is a parse error (a 400)
    rather than a server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(_("JSON parse error - the body is nested too deeply.")) from exc
