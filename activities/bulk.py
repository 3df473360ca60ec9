"""Writing many rows at once, for imports and the demo data."""

import functools
from collections.abc import Callable, Iterator
from operator import attrgetter

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.lookups import In

# Keeps each `IN (...)` list well under SQLite's 32,766 parameters, whatever the batch size.
SQLITE_IN_LIST = 10_000


class RowInserter:
    """Inserts many rows into one model's table: COPY on PostgreSQL, else executemany.

    bulk_create would build a model instance and prepare all ~45 fields for every row,
    which at a million rows costs more than the database's own work. Here only the values
    given are converted, by the backend's own adapters for their column's kind; the other
    columns take their field's default, converted once.
    """

    def __init__(
        self,
        model: type[models.Model],
        converters: dict[str, Callable | None],
        fixed: dict | None = None,
    ):
        """`fixed`: values (by attname) that every row takes unless it gives its own."""
        self.connection = connections[DEFAULT_DB_ALIAS]  # not the proxy: it is slow to use
        self.converters = converters
        fields = [f for f in model._meta.concrete_fields if not f.auto_created]
        self.columns = {f.attname: (n, self._converter(f)) for n, f in enumerate(fields)}
        defaults = {f.attname: f.get_default() for f in fields} | (fixed or {})
        self.defaults = [f.get_db_prep_save(defaults[f.attname], self.connection) for f in fields]
        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        self.insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"

    def _converter(self, f: models.Field) -> Callable | None:
        """How a value goes to this column; None: as it is."""
        target = f.target_field if f.is_relation else f
        return self.converters.get(target.get_internal_type())

    def values(self, row: dict) -> list:
        """The row as the database driver takes it."""
        values = self.defaults.copy()
        for name, value in row.items():
            position, convert = self.columns[name]
            values[position] = value if convert is None or value is None else convert(value)
        return values

    def insert(self, rows: list[list]) -> None:
        """Insert rows made by `values`."""
        if not rows:
            return
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":  # COPY: several times faster there
                with cursor.copy(self.copy_sql) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.insert_sql, rows)


def converters_by_kind() -> dict[str, Callable | None]:
    """The backend's adapters for the kinds of columns that need one."""
    connection = connections[DEFAULT_DB_ALIAS]
    ops = connection.ops
    return {
        "UUIDField": None if connection.features.has_native_uuid_field else attrgetter("hex"),
        # Rows repeat times (an entry's in its links, created_at, …): convert each once.
        "DateTimeField": functools.lru_cache(maxsize=4096)(ops.adapt_datetimefield_value),
        "JSONField": functools.partial(ops.adapt_json_value, encoder=None),
    }


class AnyOf(In):
    """`field__any_of=values`: `field IN (...)`, but on PostgreSQL `field = ANY(%s)`.

    There the values go as one array: a list of 10,000 literals took the server 100-250
    ms to parse, plan and run, the array about 70 ms.
    """

    lookup_name = "any_of"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():  # a subquery
            return self.as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        _, rhs_params = self.process_rhs(compiler, connection)  # no None; none: no rows
        return f"{lhs} = ANY(%s)", (*lhs_params, list(rhs_params))


def lists_for_any_of(values: list, size: int | None = None) -> Iterator[list]:
    """`values` in lists for `__any_of`: all at once on PostgreSQL, else `size` (or
    SQLITE_IN_LIST) at a time."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        size = max(len(values), 1)
    size = size or SQLITE_IN_LIST
    for start in range(0, len(values), size):
        yield values[start : start + size]
