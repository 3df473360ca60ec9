import json
import math
import re

from ninja.parser import Parser

# JSON may escape half of a UTF-16 pair ("\\ud800"); such text is not Unicode.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class RefusedValue(ValueError):
    """A value JSON parsed but the API will not store, at `field` (a dotted path)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters."
    if LONE_SURROGATE.search(text):
        return "must be valid Unicode (a lone surrogate is not)."
    return None


def _refuse_unstorable(data) -> None:
    """PostgreSQL stores neither NUL characters, lone surrogates nor NaN/Infinity: refuse
    them at the door."""
    stack = [(data, ())]
    while stack:
        item, path = stack.pop()
        field = ".".join(str(part) for part in path) or "body"
        if isinstance(item, str) and (problem := _text_problem(item)):
            raise RefusedValue(field, f"Text {problem}")
        if isinstance(item, float) and not math.isfinite(item):
            raise RefusedValue(field, "Numbers must be finite.")
        if isinstance(item, dict):
            for key, value in item.items():
                if problem := _text_problem(key):
                    raise RefusedValue(field, f"Keys {problem}")
                stack.append((value, (*path, key)))
        elif isinstance(item, list):
            stack.extend((value, (*path, index)) for index, value in enumerate(item))


class StrictJsonParser(Parser):
    def parse_body(self, request):
        data = json.loads(request.body)
        _refuse_unstorable(data)
        return data
