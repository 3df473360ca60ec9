"""Querysets compiled to SQL once a process, then run with each request's values.

A timeline page's queries are built by the ORM on every request, and building and
compiling them costs several times what the database takes to answer them (at 2.2M
entries on SQLite: about 3 ms to build and compile the page's query, 0.4 ms to run it).
They come in a few shapes only, so `rows` compiles each shape once, from a queryset
built with stand-in values, and runs that SQL with the request's values in the
stand-ins' places, converting the rows with the ORM's own converters. `instances` makes
model instances of such rows, for the few queries every request runs.

A shape is everything about the values that changes the SQL: which are None or not
stand-in kinds (they go to the builder as they are), and how long each list is.
"""

import uuid
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import count
from operator import attrgetter

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

# Values of these kinds become parameters of the SQL; any other goes into the shape.
STAND_IN_KINDS = (uuid.UUID, datetime, int, str)
# Far from any real value: a parameter equal to one is that value's place.
_STAND_IN_UUID = 0xF00D_0000_0000_0000_0000_0000_0000_0000
_STAND_IN_INT = 1_987_650_000
_STAND_IN_TIME = datetime(1901, 2, 3, tzinfo=UTC)


@dataclass(frozen=True)
class Fixed:
    """A value that the builder writes into the SQL rather than binds (a LIMIT, say):
    part of the shape, so each value compiles a query of its own."""

    value: Hashable


# Per database connection (each thread has its own), its compiled shapes.
_COMPILED: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()


def rows(
    name: str, build: Callable[..., QuerySet], values: dict, using: str = DEFAULT_DB_ALIAS
) -> list[tuple]:
    """The rows of `build(**values)`, a `values_list` queryset, as it would return them.

    `name` names the builder; each builder must always build the same query for the same
    shape of values, and use every stand-in value as a parameter of its query.
    """
    connection = connections[using]
    compiled = _COMPILED.setdefault(connection, {})
    key = (name, _shape(values))
    query = compiled.get(key)
    if query is None:
        query = compiled[key] = CompiledQuery(build, values, connection)
    return query.run(values)


def instances(
    name: str,
    model: type[Model],
    build: Callable[..., QuerySet],
    values: dict,
    *,
    related: Sequence[str] = (),
    annotations: Sequence[str] = (),
    using: str = DEFAULT_DB_ALIAS,
) -> list[Model]:
    """The `model` instances of `build(**values)`, a queryset of them, as `rows` reads
    them: with the objects of its non-null foreign keys `related` set, as `select_related`
    would, and its `annotations` as attributes."""
    models = [model, *(model._meta.get_field(field).related_model for field in related)]
    build_rows = partial(_instance_rows, build, models, related, annotations)
    return [
        _instance(row, models, related, annotations, using)
        for row in rows(name, build_rows, values, using)
    ]


def _instance(row: tuple, models: list, related: Sequence[str], annotations, using) -> Model:
    objects = []
    start = 0
    for model in models:
        columns = _columns(model)
        objects.append(model.from_db(using, columns, row[start : start + len(columns)]))
        start += len(columns)
    instance, *others = objects
    for field, other in zip(related, others, strict=True):
        setattr(instance, field, other)
    for annotation, value in zip(annotations, row[start:], strict=True):
        setattr(instance, annotation, value)
    return instance


def _instance_rows(build, models, related, annotations, **values) -> QuerySet:
    columns = _columns(models[0])
    for field, other in zip(related, models[1:], strict=True):
        columns += [f"{field}__{column}" for column in _columns(other)]
    return build(**values).values_list(*columns, *annotations)


def _columns(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _shape(values: dict) -> Hashable:
    return tuple((name, _shape_of(value)) for name, value in sorted(values.items()))


def _shape_of(value) -> Hashable:
    if isinstance(value, list | tuple):
        return ("list", tuple(_shape_of(item) for item in value))
    if _is_stand_in_kind(value):
        return type(value).__name__
    return ("literal", value)


def _is_stand_in_kind(value) -> bool:
    return isinstance(value, STAND_IN_KINDS) and not isinstance(value, bool)


class CompiledQuery:
    """One shape of a builder's query: its SQL, its parameters with the stand-ins' places,
    and the converters of its columns."""

    def __init__(self, build: Callable[..., QuerySet], values: dict, connection):
        serial = count(1)
        stand_ins = {name: _stand_in(value, serial) for name, value in values.items()}
        queryset = build(**stand_ins)
        self.connection = connection
        self.compiler = queryset.query.get_compiler(connection=connection)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        columns = [column for column, _, _ in self.compiler.select[: self.compiler.col_count]]
        self.converters = self.compiler.get_converters(columns)
        self.places = _places(self.params, stand_ins, connection)

    def run(self, values: dict) -> list[tuple]:
        params = self.params.copy()
        for position, path, prepare in self.places:
            params[position] = prepare(_at(values, path))
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            found = cursor.fetchall()
        if self.converters:
            found = map(tuple, self.compiler.apply_converters(found, self.converters))
        return list(found)


def _stand_in(value, serial: count):
    if isinstance(value, list | tuple):
        return [_stand_in(item, serial) for item in value]
    if not _is_stand_in_kind(value):
        return value
    number = next(serial)
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=_STAND_IN_UUID + number)
    if isinstance(value, datetime):
        return _STAND_IN_TIME + timedelta(seconds=number)
    if isinstance(value, int):
        return _STAND_IN_INT + number
    return f"\x1fstand-in {number}\x1f"


def _stand_in_paths(stand_ins: dict):
    """(path, stand-in) of every stand-in: a path is its name, then its index in a list."""
    for name, value in stand_ins.items():
        if isinstance(value, list):
            for index, item in enumerate(value):
                if _is_stand_in_kind(item):
                    yield (name, index), item
        elif _is_stand_in_kind(value):
            yield (name,), value


def _places(params: list, stand_ins: dict, connection) -> list[tuple[int, tuple, Callable]]:
    """Where each stand-in is in `params`, and how a value is prepared for that place."""
    places = []
    for path, stand_in in _stand_in_paths(stand_ins):
        forms = _prepared_forms(stand_in, connection)
        found = [
            (position, path, prepare)
            for position, param in enumerate(params)
            if (prepare := _preparer(param, forms)) is not None
        ]
        if not found:
            where = ".".join(map(str, path))
            raise ImproperlyConfigured(f"The query does not use its value {where}.")
        places += found
    return places


def _preparer(param, forms: list[tuple[object, Callable]]) -> Callable | None:
    """How the value whose prepared stand-in `param` is, is prepared; None if none is."""
    for prepared, prepare in forms:
        if type(param) is type(prepared) and param == prepared:
            return prepare
    return None


def _prepared_forms(stand_in, connection) -> list[tuple[object, Callable]]:
    """The forms a value of the stand-in's kind may take among a query's parameters."""
    if isinstance(stand_in, uuid.UUID):
        return [(stand_in, _as_is), (stand_in.hex, attrgetter("hex")), (str(stand_in), str)]
    if isinstance(stand_in, datetime):
        adapt = connection.ops.adapt_datetimefield_value
        return [(stand_in, _as_is), (adapt(stand_in), adapt)]
    if isinstance(stand_in, int):
        return [(stand_in, _as_is), (str(stand_in), str)]
    return [(stand_in, _as_is)]


def _as_is(value):
    return value


def _at(values: dict, path: tuple):
    value = values[path[0]]
    return value[path[1]] if len(path) > 1 else value
