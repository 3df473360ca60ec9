import re

from django.utils.html import escape, linebreaks, urlize
from django.utils.safestring import SafeString, mark_safe

# urlize only makes a link of a word holding "@", "http://", "https://", "www." or a dot
# before one of its seven top-level domains. Text with none of them needs only escaping
# and paragraphs, which costs a fraction of urlize's work (bulk imports render millions).
LINK_CANDIDATE = re.compile(r"@|https?://|www\.|\.(?:com|edu|gov|int|mil|net|org)", re.I)


def render_text(text: str) -> SafeString:
    """User text as safe HTML: escaped, links made clickable, line breaks kept."""
    if not text:
        return SafeString("")
    if not LINK_CANDIDATE.search(text):
        return mark_safe(linebreaks(escape(text)))
    return linebreaks(urlize(escape(text), nofollow=True, autoescape=False))
