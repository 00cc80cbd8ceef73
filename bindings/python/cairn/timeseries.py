"""Time series: points per metric and tags (wraps the cairn_ts_ functions).

Reached as Database.timeseries:

    ts = db.timeseries
    ts.write([{"metric": "cpu.usage", "tags": {"host": "a"}, "t": 1000, "v": 0.5}])
    for point in ts.range("cpu.usage", tags={"host": "a"}, start=0, end=10_000):
        print(point["t"], point["v"])
    for row in ts.aggregate("cpu.usage", every="5m", aggregates=["avg", "max"], group_by=["host"]):
        print(row["group"]["host"], row["t"], row["avg"])

Timestamps are int milliseconds since the epoch (datetime objects are
converted). Float values may be NaN or infinite; rows carry them as Python
floats. include/cairn.h, "Time series", describes queries and rows.
"""

from __future__ import annotations

import array
import datetime
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from ctypes import POINTER, byref, c_char_p, c_double, c_int64, c_size_t, c_uint64, cast
from typing import TYPE_CHECKING, Any

from . import _ffi, errors
from ._convert import parse_duration, take_buffer
from ._ffi import lib
from .cursor import Cursor

if TYPE_CHECKING:
    from .database import Database

__all__ = ["TimeSeries", "SeriesCursor"]

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
#: cairn_ts_maintain(): the database's clock.
NOW = -(2**63)


def _ms(t: int | datetime.datetime | None, what: str) -> int | None:
    if t is None:
        return None
    if isinstance(t, datetime.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=datetime.timezone.utc)
        return int(t.timestamp() * 1000) if t.microsecond % 1000 == 0 else math.floor(t.timestamp() * 1000)
    if isinstance(t, bool) or not isinstance(t, int):
        raise TypeError(f"{what} must be an int (milliseconds) or a datetime, not {type(t).__name__}")
    return t


def _duration(value: int | str | None, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be milliseconds or a duration such as '5m'")
    return value


def _value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def _text(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode("utf-8")


class SeriesCursor(Cursor):
    """A Cursor of time-series rows; "NaN", "Infinity" and "-Infinity"
    strings in values come back as floats."""

    def __next__(self) -> dict[str, Any]:
        row = super().__next__()
        for key, value in row.items():
            if isinstance(value, str) and key not in ("metric",) and value in _SPECIAL:
                row[key] = _SPECIAL[value]
        return row


class TimeSeries:
    """The time-series operations of one database (Database.timeseries)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _h(self) -> Any:
        return self._db._handle()

    @staticmethod
    def _query(
        metric: str | None,
        tags: Mapping[str, str] | None,
        where: Mapping[str, Any] | None,
        id: int | None,
        **extra: Any,
    ) -> bytes:
        q: dict[str, Any] = {}
        if id is not None:
            q["id"] = id
        if metric is not None:
            q["metric"] = metric
        if tags is not None:
            q["tags"] = dict(tags)
        if where is not None:
            q["where"] = dict(where)
        for key, value in extra.items():
            if value is not None:
                q[key] = value
        return _text(q)

    def _cursor(self, fn: Any, query: bytes) -> SeriesCursor:
        out = _ffi.cursor_p()
        errors.call(fn, self._h(), query, len(query), byref(out))
        return SeriesCursor(self._db, out)

    # -- writes ------------------------------------------------------------------

    def series_id(self, metric: str, tags: Mapping[str, str] | None = None, *, type: str = "float") -> int:
        """The id of a series, created (holding "float" or "int" values) when missing."""
        text = _text({"metric": metric, "tags": dict(tags or {}), "type": type})
        out = c_uint64()
        errors.call(lib.cairn_ts_series_id, self._h(), text, len(text), byref(out))
        return out.value

    def write(self, points: Iterable[Mapping[str, Any]]) -> int:
        """Writes points {"metric", "tags", "t", "v"} (or "id" for metric and
        tags; "type" for a new series) atomically; returns how many."""
        items = []
        for point in points:
            item = dict(point)
            if "t" in item:
                item["t"] = _ms(item["t"], "t")
            if "v" in item:
                item["v"] = _value(item["v"])
            items.append(item)
        text = _text(items)
        written = c_size_t()
        errors.call(lib.cairn_ts_write, self._h(), text, len(text), byref(written))
        return written.value

    def write_columns(self, ids: Sequence[int], times: Sequence[int], values: Sequence[float] | Sequence[int]) -> None:
        """Writes points as three equal-length columns in one atomic write,
        the fast path: values all int go to cairn_ts_write_int, otherwise
        cairn_ts_write_float."""
        n = len(ids)
        if len(times) != n or len(values) != n:
            errors.invalid("ids, times and values must have the same length")
        if n == 0:
            return
        id_array = array.array("Q", ids)
        time_array = array.array("q", times)
        integers = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        value_array = array.array("q" if integers else "d", values)
        id_ptr = cast(id_array.buffer_info()[0], POINTER(c_uint64))
        time_ptr = cast(time_array.buffer_info()[0], POINTER(c_int64))
        if integers:
            errors.call(lib.cairn_ts_write_int, self._h(), id_ptr, time_ptr,
                        cast(value_array.buffer_info()[0], POINTER(c_int64)), n)
        else:
            errors.call(lib.cairn_ts_write_float, self._h(), id_ptr, time_ptr,
                        cast(value_array.buffer_info()[0], POINTER(c_double)), n)

    def import_lines(self, text: str | bytes, *, precision: str = "ns") -> int:
        """Imports InfluxDB line protocol; returns the points written. A
        malformed line raises InvalidArgument naming its line number."""
        raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        options = _text({"precision": precision})
        written = c_size_t()
        errors.call(lib.cairn_ts_import, self._h(), raw, len(raw), options, len(options), byref(written))
        return written.value

    def delete(self, metric: str | None = None, *, tags: Mapping[str, str] | None = None,
               where: Mapping[str, Any] | None = None, id: int | None = None,
               start: int | datetime.datetime | None = None, end: int | datetime.datetime | None = None) -> int:
        """Deletes the points in [start, end) of the selected series; returns
        how many series it selected."""
        q = self._query(metric, tags, where, id, start=_ms(start, "start"), end=_ms(end, "end"))
        out = c_size_t()
        errors.call(lib.cairn_ts_delete, self._h(), q, len(q), byref(out))
        return out.value

    # -- reads -------------------------------------------------------------------

    def range(self, metric: str | None = None, *, tags: Mapping[str, str] | None = None,
              where: Mapping[str, Any] | None = None, id: int | None = None,
              start: int | datetime.datetime | None = None, end: int | datetime.datetime | None = None) -> SeriesCursor:
        """The points in [start, end): rows {"t", "v"} (with "metric" and
        "tags" unless one series is named)."""
        q = self._query(metric, tags, where, id, start=_ms(start, "start"), end=_ms(end, "end"))
        return self._cursor(lib.cairn_ts_range, q)

    def last(self, metric: str | None = None, *, tags: Mapping[str, str] | None = None,
             where: Mapping[str, Any] | None = None, id: int | None = None,
             as_of: int | datetime.datetime | None = None) -> SeriesCursor:
        """The newest point at or before `as_of` (default: the latest) of each
        selected series: rows {"id", "metric", "tags", "t", "v"}."""
        q = self._query(metric, tags, where, id, as_of=_ms(as_of, "as_of"))
        return self._cursor(lib.cairn_ts_last, q)

    def latest(self, metric: str, tags: Mapping[str, str] | None = None, *,
               as_of: int | datetime.datetime | None = None) -> tuple[int, Any] | None:
        """(t, v) of one series' newest point at or before `as_of`, or None."""
        with self.last(metric, tags=dict(tags or {}), as_of=as_of) as cursor:
            for row in cursor:
                return row["t"], row["v"]
        return None

    def series(self, metric: str | None = None, *, where: Mapping[str, Any] | None = None,
               tags: Mapping[str, str] | None = None, id: int | None = None) -> SeriesCursor:
        """The selected series: rows {"id", "metric", "tags", "type"}."""
        return self._cursor(lib.cairn_ts_series, self._query(metric, tags, where, id))

    def aggregate(self, metric: str | None = None, *, every: int | str, aggregates: Sequence[str],
                  tags: Mapping[str, str] | None = None, where: Mapping[str, Any] | None = None, id: int | None = None,
                  start: int | datetime.datetime | None = None, end: int | datetime.datetime | None = None,
                  group_by: Sequence[str] | None = None, fill: str | None = None) -> SeriesCursor:
        """Windowed aggregates: rows {"group" (with group_by), "t", <aggregate>: value}."""
        q = self._query(metric, tags, where, id, start=_ms(start, "start"), end=_ms(end, "end"), every=every,
                        aggregates=list(aggregates), group_by=list(group_by) if group_by is not None else None, fill=fill)
        return self._cursor(lib.cairn_ts_aggregate, q)

    # -- downsampling, retention, maintenance --------------------------------------

    def set_retention(self, metric: str, keep: int | str | None) -> None:
        """Keeps `metric`'s points for `keep` (ms or "30d"; None or 0: forever)."""
        raw = metric.encode("utf-8")
        errors.call(lib.cairn_ts_set_retention, self._h(), raw, len(raw), _duration(keep, "keep"))

    def create_rule(self, name: str, metric: str, *, every: int | str, aggregates: Sequence[str],
                    delay: int | str | None = None, retention: int | str | None = None) -> None:
        """Creates or replaces a downsampling rule writing "<metric>:<name>:<aggregate>"."""
        rule: dict[str, Any] = {"name": name, "metric": metric, "every": every, "aggregates": list(aggregates)}
        if delay is not None:
            rule["delay"] = delay
        if retention is not None:
            rule["retention"] = retention
        text = _text(rule)
        errors.call(lib.cairn_ts_create_rule, self._h(), text, len(text))

    def drop_rule(self, name: str) -> None:
        raw = name.encode("utf-8")
        errors.call(lib.cairn_ts_drop_rule, self._h(), raw, len(raw))

    def settings(self) -> dict[str, Any]:
        text, length = c_char_p(), c_size_t()
        errors.call(lib.cairn_ts_settings, self._h(), byref(text), byref(length))
        result: dict[str, Any] = json.loads(take_buffer(text, length.value))
        return result

    def set_maintenance_interval(self, interval: int | str) -> None:
        """How often background maintenance runs (0: never)."""
        errors.call(lib.cairn_ts_set_maintenance_interval, self._h(), _duration(interval, "interval"))

    def maintain(self, now: int | datetime.datetime | None = None) -> dict[str, Any]:
        """Runs rules and retention as of `now` (default: the clock)."""
        text, length = c_char_p(), c_size_t()
        at = _ms(now, "now")
        errors.call(lib.cairn_ts_maintain, self._h(), NOW if at is None else at, byref(text), byref(length))
        result: dict[str, Any] = json.loads(take_buffer(text, length.value))
        return result

    def compact(self) -> int:
        """Packs every bucket and compacts; returns the buckets packed."""
        out = c_size_t()
        errors.call(lib.cairn_ts_compact, self._h(), byref(out))
        return out.value
