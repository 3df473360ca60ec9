import re

from django.utils.html import Urlizer, escape, linebreaks, urlize
from django.utils.safestring import SafeString, mark_safe

# urlize only makes a link of a word holding "@", "http://", "https://", "www." or a dot
# before one of its seven top-level domains. It looks at each word on its own, so only
# the words holding one of them need its (costly) work; the others stay as they are.
# Bulk imports render millions of texts.
LINK_CANDIDATE = re.compile(r"@|https?://|www\.|\.(?:com|edu|gov|int|mil|net|org)", re.I)
WORDS = Urlizer.word_split_re  # words and what separates them, as urlize splits text


def render_text(text: str) -> SafeString:
    """User text as safe HTML: escaped, links made clickable, line breaks kept."""
    if not text:
        return SafeString("")
    html = escape(text)
    if LINK_CANDIDATE.search(html):
        html = "".join(
            urlize(word, nofollow=True, autoescape=False) if LINK_CANDIDATE.search(word) else word
            for word in WORDS.split(html)
        )
    return mark_safe(linebreaks(html))
