"""Portable SQL pieces the reports and live figures need (PostgreSQL in production, SQLite in
embedded mode)."""

from django.db.models import Expression, FloatField, Func


class SecondsBetween(Func):
    """``end - start`` in seconds (a float; to the microsecond on PostgreSQL, the millisecond on
    SQLite), NULL when either is NULL."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end: Expression | str, start: Expression | str, **extra: object) -> None:
        super().__init__(end, start, **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            # julianday() is a double of days: keep milliseconds, drop the float noise below.
            template="ROUND((julianday(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - julianday(",
            **extra_context,
        )
