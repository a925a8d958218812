"""Minutes are written in Markdown and shown as HTML: rendered, then sanitised, so a member's text
can never carry a script, an event handler or a style into the page of another member."""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "toc"]
# The minutes sit under the page's "Minutes" heading (an h2): their own "# Title" is an h3, so a page
# keeps one h1 and its outline.
MARKDOWN_CONFIG = {"toc": {"baselevel": 3}}


def render_minutes(text: str) -> SafeString:
    """The minutes as safe HTML: Markdown (with tables and footnotes) through nh3's allow-list."""
    html = markdown.markdown(
        text or "", extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG, output_format="html"
    )
    return mark_safe(nh3.clean(html))  # noqa: S308 - nh3 has just removed everything not on its allow-list
