"""The PDFs the app prints (meeting packs, penalty statements): WeasyPrint reads the app's own static
files and nothing else.

They carry what users write (minutes, dispute reasons): an image or stylesheet named there must not make
the server fetch a URL (on the network or on its disk). Only the project's static files are read, from the
disk, under the pack's own address (`base_url`); every other URL is refused and WeasyPrint leaves the
resource out.
"""

from __future__ import annotations

import mimetypes
import posixpath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse


class StaticFilesOnly(URLFetcher):
    """Serves `{base_url}{STATIC_URL}…` from the static files; refuses every other URL (no network)."""

    def __init__(self, base_url: str):
        super().__init__(allowed_protocols=())
        self.static_prefix = base_url.rstrip("/") + "/" + settings.STATIC_URL.strip("/") + "/"

    def fetch(self, url, headers=None):
        if not url.startswith(self.static_prefix):
            raise ValueError(f"Only the application's static files are read: {url}")
        relative = posixpath.normpath(unquote(urlsplit(url[len(self.static_prefix) :]).path))
        if relative.startswith(("..", "/")):
            raise ValueError(f"Not a static file: {url}")
        try:
            path = finders.find(relative)
        except SuspiciousFileOperation as error:
            raise ValueError(f"Not a static file: {url}") from error
        if not path:
            raise ValueError(f"No such static file: {url}")
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        with open(path, "rb") as file:
            return URLFetcherResponse(url, file.read(), {"Content-Type": content_type})


def render_pdf(html: str, *, base_url: str) -> bytes:
    return HTML(string=html, base_url=base_url, url_fetcher=StaticFilesOnly(base_url)).write_pdf()
