"""Minutes are written in Markdown and shown as HTML: rendered, then sanitised, so a member's text
can never carry a script, an event handler or a style into the page of another member.

Images from other sites are dropped: a browser (or the PDF pack's renderer) opening the minutes would
otherwise fetch them, telling that site who read the minutes and when (a tracking pixel). Links stay."""

import re
from urllib.parse import urlsplit

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "toc"]
# The minutes sit under the page's "Minutes" heading (an h2): their own "# Title" is an h3, so a page
# keeps one h1 and its outline.
MARKDOWN_CONFIG = {"toc": {"baselevel": 3}}
# nh3 writes every tag it keeps with its attributes quoted and "<", ">" escaped inside them.
IMAGE_WITHOUT_SOURCE = re.compile(r"<img\b(?![^>]*\ssrc=)[^>]*>")


def is_external(url: str) -> bool:
    """Whether `url` names another site (a scheme or a host) rather than a path of this one. Browsers read
    a backslash as a slash (so "/\\host/x" names a host)."""
    parts = urlsplit(url.strip().replace("\\", "/"))
    return bool(parts.scheme or parts.netloc)


def _drop_external_sources(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute in ("src", "srcset") and is_external(value):
        return None
    return value


def render_minutes(text: str) -> SafeString:
    """The minutes as safe HTML: Markdown (with tables and footnotes) through nh3's allow-list, without
    images from other sites."""
    html = markdown.markdown(
        text or "", extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG, output_format="html"
    )
    cleaned = nh3.clean(html, attribute_filter=_drop_external_sources)
    return mark_safe(IMAGE_WITHOUT_SOURCE.sub("", cleaned))  # noqa: S308 - nh3 has just removed everything not on its allow-list
