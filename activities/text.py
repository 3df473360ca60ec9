from django.utils.html import escape, linebreaks, urlize
from django.utils.safestring import SafeString


def render_text(text: str) -> SafeString:
    """User text as safe HTML: escaped, links made clickable, line breaks kept."""
    if not text:
        return SafeString("")
    return linebreaks(urlize(escape(text), nofollow=True, autoescape=False))
