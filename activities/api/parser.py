import json
import math

from ninja.parser import Parser


class RefusedValue(ValueError):
    """A value JSON parsed but the API will not store, at `field` (a dotted path)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def _refuse_unstorable(data) -> None:
    """PostgreSQL stores neither NUL characters nor NaN/Infinity: refuse them at the door."""
    stack = [(data, ())]
    while stack:
        item, path = stack.pop()
        field = ".".join(str(part) for part in path) or "body"
        if isinstance(item, str) and "\x00" in item:
            raise RefusedValue(field, "Text must not contain NUL characters.")
        if isinstance(item, float) and not math.isfinite(item):
            raise RefusedValue(field, "Numbers must be finite.")
        if isinstance(item, dict):
            for key, value in item.items():
                if "\x00" in key:
                    raise RefusedValue(field, "Keys must not contain NUL characters.")
                stack.append((value, (*path, key)))
        elif isinstance(item, list):
            stack.extend((value, (*path, index)) for index, value in enumerate(item))


class StrictJsonParser(Parser):
    def parse_body(self, request):
        data = json.loads(request.body)
        _refuse_unstorable(data)
        return data
