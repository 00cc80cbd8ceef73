"""The Python API: idiom, errors, handles, TTLs, batches, iterators, threads, locking."""

from __future__ import annotations

import ctypes
import datetime
import gc
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import cairn
from cairn import _ffi

# -- opening and closing ------------------------------------------------------------


def test_with_closes_the_database(db_path: Path) -> None:
    with cairn.open(db_path) as db:
        db.put("k", "v")
        assert not db.closed
    assert db.closed
    with pytest.raises(cairn.Closed):
        db.get("k")
    db.close()  # idempotent
    db.close()
    with cairn.open(db_path) as again:
        assert again.get("k") == b"v"


def test_open_accepts_path_objects_and_strings(tmp_path: Path) -> None:
    with cairn.open(tmp_path / "a") as a, cairn.open(str(tmp_path / "b")) as b:
        assert a.path == str(tmp_path / "a")
        assert repr(b) == f"<cairn.Database {str(tmp_path / 'b')!r} open>"
    assert repr(b).endswith("closed>")


def test_keyword_options_become_the_json_options(db_path: Path) -> None:
    with cairn.open(db_path, sync="never", memtable_size_mb=8, create_if_missing=True) as db:
        db.put("k", "v")
    with cairn.open(db_path, create_if_missing=False) as db:
        assert db.get("k") == b"v"
    with pytest.raises(cairn.InvalidArgument):
        cairn.open(db_path, error_if_exists=True)


def test_bad_options_raise_invalid_argument_naming_the_problem(db_path: Path) -> None:
    with pytest.raises(cairn.InvalidArgument) as info:
        cairn.open(db_path, no_such_option=1)
    assert "no_such_option" in str(info.value)
    with pytest.raises(ValueError):  # InvalidArgument is a ValueError too
        cairn.open(db_path, sync="sometimes")


def test_missing_database_without_create_is_not_found(db_path: Path) -> None:
    with pytest.raises(cairn.NotFound) as info:
        cairn.open(db_path, create_if_missing=False)
    assert info.value.code == 1
    assert info.value.status == "CAIRN_NOT_FOUND"


def test_a_regular_file_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("hello")
    with pytest.raises(cairn.InvalidArgument):
        cairn.open(path)


def test_garbage_collection_closes_a_forgotten_database(db_path: Path) -> None:
    db = cairn.open(db_path)
    db.put("k", "v")
    del db
    gc.collect()
    with cairn.open(db_path) as db:  # the lock was released by __del__
        assert db["k"] == b"v"


# -- key-value ------------------------------------------------------------------


def test_get_returns_none_for_absent_keys(db: cairn.Database) -> None:
    assert db.get("missing") is None
    db.put("present", "1")
    assert db.get("present") == b"1"


def test_subscript_raises_key_error_and_in_tests_presence(db: cairn.Database) -> None:
    db["a"] = "1"
    assert db["a"] == b"1"
    assert "a" in db
    assert b"b" not in db
    with pytest.raises(KeyError):
        db["b"]


@pytest.mark.parametrize(
    "key",
    [b"key", bytearray(b"key"), memoryview(b"key"), "key", memoryview(b"xkeyx")[1:4]],
    ids=["bytes", "bytearray", "memoryview", "str", "memoryview-slice"],
)
def test_keys_and_values_accept_bytes_like_objects_and_str(db: cairn.Database, key: Any) -> None:
    db.put(key, bytearray(b"value"))
    assert db.get(b"key") == b"value"
    assert db.get(key) == b"value"


def test_str_is_encoded_as_utf8(db: cairn.Database) -> None:
    db.put("ünïcødé", "☃")
    assert db.get("ünïcødé".encode()) == "☃".encode()


def test_other_types_raise_type_error(db: cairn.Database) -> None:
    with pytest.raises(TypeError):
        db.put(1, "v")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.put("k", None)  # type: ignore[arg-type]


def test_binary_keys_and_empty_values_round_trip(db: cairn.Database) -> None:
    db.put(b"bin\x00key", b"v\x00\x01w")
    db.put("empty", b"")
    assert db.get(b"bin\x00key") == b"v\x00\x01w"
    assert db.get("empty") == b""
    assert "empty" in db
    assert db.get(b"bin") is None


def test_size_limits(db: cairn.Database) -> None:
    with pytest.raises(cairn.InvalidArgument):
        db.put("", "v")
    db.put(b"k" * 65536, "max")
    with pytest.raises(cairn.InvalidArgument):
        db.put(b"k" * 65537, "too long")
    assert db.get(b"k" * 65536) == b"max"


def test_delete_and_delete_range(db: cairn.Database) -> None:
    for key in ["a", "b", "ba", "c", "d"]:
        db.put(key, key)
    db.delete("a")
    db.delete("never-existed")
    db.delete_range("b", "c")
    assert db.keys() == [b"c", b"d"]


def test_get_many_keeps_request_order_and_marks_absent_keys(db: cairn.Database) -> None:
    db.put("a", "1")
    db.put("c", "3")
    db.put("e", "")
    assert db.get_many(["c", b"b", "a", "e", "c"]) == [b"3", None, b"1", b"", b"3"]
    assert db.get_many(k for k in ["zz"]) == [None]
    with pytest.raises(cairn.InvalidArgument):
        db.get_many([])


# -- TTL --------------------------------------------------------------------------


def test_ttl_strings_are_parsed_by_the_library() -> None:
    assert cairn.parse_duration("500ms") == 500
    assert cairn.parse_duration("2d") == 2 * 24 * 3600 * 1000
    assert cairn.parse_duration("1w") == 7 * 24 * 3600 * 1000
    assert cairn.parse_duration("250") == 250
    for bad in ["", "5y", "-5s", "0s", "1.5h"]:
        with pytest.raises(cairn.InvalidArgument):
            cairn.parse_duration(bad)


def test_ttl_string_expires_a_key(db: cairn.Database) -> None:
    db.put("short", "s", ttl="300ms")  # long enough to read it back even on a busy machine
    db.put("long", "l", ttl="1h")
    assert db.get("short") == b"s"
    time.sleep(0.5)
    assert db.get("short") is None
    assert "short" not in db
    assert db.get("long") == b"l"
    assert db.keys() == [b"long"]


def test_ttl_timedelta_and_ttl_ms(db: cairn.Database) -> None:
    db.put("td", "x", ttl=datetime.timedelta(milliseconds=40))
    db.put("ms", "x", ttl_ms=40)
    db.put("tiny", "x", ttl=datetime.timedelta(microseconds=1))  # rounds up to 1 ms, never to "no expiry"
    db.put("week", "x", ttl=datetime.timedelta(weeks=1))
    db.put("forever", "x", ttl_ms=0)
    time.sleep(0.1)
    assert db.get_many(["td", "ms", "tiny", "week", "forever"]) == [None, None, None, b"x", b"x"]


def test_bad_ttls(db: cairn.Database) -> None:
    with pytest.raises(cairn.InvalidArgument):
        db.put("k", "v", ttl="5y")
    with pytest.raises(cairn.InvalidArgument):
        db.put("k", "v", ttl=datetime.timedelta(0))
    with pytest.raises(cairn.InvalidArgument):
        db.put("k", "v", ttl_ms=-5)
    with pytest.raises(cairn.InvalidArgument):
        db.put("k", "v", ttl_ms=2**64)  # would wrap to 0, "no expiry", if passed on
    with pytest.raises(TypeError):
        db.put("k", "v", ttl=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        db.put("k", "v", ttl="1h", ttl_ms=5)
    assert db.get("k") is None


# -- batches --------------------------------------------------------------------------


def test_batch_context_manager_writes_on_clean_exit(db: cairn.Database) -> None:
    db.put("k0", "old")
    with db.batch() as batch:
        batch.put("k1", "v1")
        batch.put("k2", "v2", ttl="1h")
        batch.delete("k0")
        batch.put("k3", "v3")
        batch.delete_range("k3", "k4")
        assert len(batch) == 5
        assert db.get("k1") is None  # nothing is applied before the write
    assert batch.closed
    assert db.keys() == [b"k1", b"k2"]


def test_batch_is_discarded_when_the_block_raises(db: cairn.Database) -> None:
    with pytest.raises(RuntimeError, match="boom"), db.batch() as batch:
        batch.put("a", "1")
        raise RuntimeError("boom")
    assert batch.closed
    assert db.get("a") is None


def test_batch_with_an_invalid_operation_writes_nothing(db: cairn.Database) -> None:
    with pytest.raises(cairn.InvalidArgument), db.batch() as batch:
        batch.put("a", "1")
        batch.put("", "empty key")
    assert db.get("a") is None


def test_explicit_batch_can_be_written_twice_cleared_and_reused(tmp_path: Path) -> None:
    with cairn.open(tmp_path / "one") as one, cairn.open(tmp_path / "two") as two, cairn.WriteBatch() as batch:
        batch.put("a", "1")
        batch.put("b", "2")
        one.write(batch)
        two.write(batch)
        assert len(batch) == 2  # unchanged by write
        batch.clear()
        assert len(batch) == 0
        one.write(batch)  # empty: a no-op
        assert one.keys() == two.keys() == [b"a", b"b"]
    with pytest.raises(cairn.Closed):
        batch.put("c", "3")
    with pytest.raises(TypeError):
        one.write("not a batch")  # type: ignore[arg-type]


def test_batch_write_is_atomic_for_concurrent_readers(db: cairn.Database) -> None:
    stop = threading.Event()
    torn: list[list[bytes | None]] = []

    def reader() -> None:
        while not stop.is_set():
            values = db.get_many(["x", "y"])
            if values[0] != values[1]:
                torn.append(values)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(300):
            with db.batch() as batch:
                batch.put("x", str(i))
                batch.put("y", str(i))
    finally:
        stop.set()
        thread.join()
    assert not torn, f"a reader saw half a batch: {torn[:3]}"


# -- iterators --------------------------------------------------------------------------

N = 10_000


@pytest.fixture
def many(db: cairn.Database) -> cairn.Database:
    with db.batch() as batch:
        for i in range(N):
            batch.put(f"key:{i:05d}", f"value {i}")
        batch.put("other", "o")
    return db


def test_iterate_forward_over_many_keys(many: cairn.Database) -> None:
    with many.iterate() as it:
        items = list(it)
    assert len(items) == N + 1
    assert items[:2] == [(b"key:00000", b"value 0"), (b"key:00001", b"value 1")]
    assert items[-1] == (b"other", b"o")
    assert [k for k, _ in items] == sorted(k for k, _ in items)
    assert it.closed


def test_iterate_reverse_with_prefix(many: cairn.Database) -> None:
    with many.iterate(prefix="key:", reverse=True) as it:
        keys = [k for k, _ in it]
    assert len(keys) == N
    assert keys[0] == b"key:09999"
    assert keys == sorted(keys, reverse=True)


def test_iterate_range_and_seek(many: cairn.Database) -> None:
    with many.iterate("key:00010", "key:00020") as it:
        assert [k for k, _ in it] == [f"key:{i:05d}".encode() for i in range(10, 20)]
        assert [k for k, _ in it.seek("key:00015")] == [f"key:{i:05d}".encode() for i in range(15, 20)]
    with many.iterate(end="key:00003", reverse=True) as it:
        assert [k for k, _ in it] == [b"key:00002", b"key:00001", b"key:00000"]
    with many.iterate(prefix="key:", reverse=True) as it:
        it.seek("key:00002x")
        assert next(it) == (b"key:00002", b"value 2")
        assert next(it) == (b"key:00001", b"value 1")
    with many.iterate(prefix="key:") as it:
        assert next(it.seek(b""))[0] == b"key:00000"  # the empty key seeks to the first key
    with many.iterate(reverse=True) as it:
        assert list(it.seek(b"")) == []  # in reverse, past the end: no key is <= b""
    with many.iterate(start="key:09998") as it:
        assert [k for k, _ in it] == [b"key:09998", b"key:09999", b"other"]
        assert list(it) == []  # exhausted stays exhausted


def test_iterator_sees_a_snapshot(db: cairn.Database) -> None:
    db.put("a", "1")
    with db.iterate() as it:
        db.put("b", "2")
        db.delete("a")
        assert list(it) == [(b"a", b"1")]


def test_iterator_use_after_close_raises_closed(db: cairn.Database) -> None:
    db.put("a", "1")
    it = db.iterate()
    it.close()
    it.close()
    with pytest.raises(cairn.Closed):
        next(it)
    with pytest.raises(cairn.Closed):
        it.seek("a")


def test_iterator_of_a_closed_database_raises_closed(db_path: Path) -> None:
    db = cairn.open(db_path)
    db.put("a", "1")
    db.put("b", "2")
    it = db.iterate()
    assert next(it) == (b"a", b"1")
    db.close()
    with pytest.raises(cairn.Closed) as info:
        next(it)
    assert info.value.code == 6
    it.close()


def test_iterator_keeps_its_database_alive(db_path: Path) -> None:
    def make() -> cairn.Iterator:
        db = cairn.open(db_path)
        db.put("a", "1")
        return db.iterate()

    it = make()
    gc.collect()
    assert list(it) == [(b"a", b"1")]
    del it
    gc.collect()
    with cairn.open(db_path) as db:  # both handles were released
        assert db["a"] == b"1"


def test_iterate_takes_a_prefix_or_bounds_not_both(db: cairn.Database) -> None:
    with pytest.raises(TypeError):
        db.iterate("a", prefix="b")


# -- keys() and stats() ---------------------------------------------------------------


def test_keys_filters_and_pages(db: cairn.Database) -> None:
    for key in ["img/cat.png", "img/dog.jpg", "img/dogs.png", "doc/dog.txt", "doc/readme"]:
        db.put(key, "x")
    assert db.keys(prefix="img/") == [b"img/cat.png", b"img/dog.jpg", b"img/dogs.png"]
    assert db.keys(suffix=".png") == [b"img/cat.png", b"img/dogs.png"]
    assert db.keys(contains=b"dog") == [b"doc/dog.txt", b"img/dog.jpg", b"img/dogs.png"]
    assert db.keys(prefix="img/", contains="dog", suffix=".png") == [b"img/dogs.png"]
    assert db.keys(limit=2) == [b"doc/dog.txt", b"doc/readme"]
    assert db.keys(contains="dog", offset=1, limit=1) == [b"img/dog.jpg"]
    assert db.keys(prefix="zzz") == []
    with pytest.raises(cairn.InvalidArgument):
        db.keys(limit=-1)
    assert db.keys(prefix=b"\xff") == []  # any bytes: a binary prefix walks the keys
    with pytest.raises(cairn.InvalidArgument):
        db.keys(prefix=b"\xff", suffix="x")  # suffix matching crosses as JSON text: UTF-8 only


def test_keys_with_non_ascii_prefix(db: cairn.Database) -> None:
    db.put("ünï:1", "x")
    db.put("uni:1", "x")
    assert db.keys(prefix="ünï") == ["ünï:1".encode()]


def test_stats_is_a_dict_of_numbers(db: cairn.Database) -> None:
    db.put("a", "1")
    db.get("a")
    stats = db.stats()
    for field in ["puts", "gets", "deletes", "writes", "bytes_written", "live_keys", "wal_bytes", "table_bytes", "get_p99_micros"]:
        assert isinstance(stats[field], (int, float)), field
    assert stats["live_keys"] == 1
    db.put("b", "2")
    assert db.stats()["puts"] > stats["puts"]


# -- errors and closed handles --------------------------------------------------------


def test_exception_classes() -> None:
    classes = [
        cairn.NotFound, cairn.InvalidArgument, cairn.IOFailure, cairn.Corruption, cairn.Busy, cairn.Closed,
        cairn.Conflict, cairn.ConstraintViolation, cairn.SchemaViolation, cairn.NoSpace, cairn.InternalError,
    ]  # fmt: skip
    assert len(set(classes)) == 11
    for cls in classes:
        assert issubclass(cls, cairn.Error) and issubclass(cls, Exception)
    assert issubclass(cairn.InvalidArgument, ValueError)
    err = cairn.errors.error_for(5, "locked by pid 7")
    assert type(err) is cairn.Busy
    assert (err.code, err.status, err.message) == (5, "CAIRN_BUSY", "locked by pid 7")
    assert str(err) == "locked by pid 7 (CAIRN_BUSY)"
    assert "Busy(code=5" in repr(err)


def test_library_errors_carry_code_status_and_message(db: cairn.Database) -> None:
    with pytest.raises(cairn.Error) as info:
        db.put("", "v")
    assert type(info.value) is cairn.InvalidArgument
    assert info.value.code == 2
    assert info.value.status == "CAIRN_INVALID_ARGUMENT"
    assert info.value.message  # the library names the problem


CLOSED_DB_CALLS: list[tuple[str, Callable[[cairn.Database], Any]]] = [
    ("put", lambda db: db.put("k", "v")),
    ("get", lambda db: db.get("k")),
    ("getitem", lambda db: db["k"]),
    ("contains", lambda db: "k" in db),
    ("delete", lambda db: db.delete("k")),
    ("delete_range", lambda db: db.delete_range("a", "z")),
    ("get_many", lambda db: db.get_many(["k"])),
    ("keys", lambda db: db.keys()),
    ("iterate", lambda db: db.iterate()),
    ("batch", lambda db: db.batch()),
    ("write", lambda db: db.write(cairn.WriteBatch())),
    ("stats", lambda db: db.stats()),
    ("transaction", lambda db: db.transaction()),
    ("collection", lambda db: db.collection("c").find_one()),
    ("with", lambda db: db.__enter__()),
]


@pytest.mark.parametrize("call", [c for _, c in CLOSED_DB_CALLS], ids=[n for n, _ in CLOSED_DB_CALLS])
def test_every_call_on_a_closed_database_raises_closed(db_path: Path, call: Callable[[cairn.Database], Any]) -> None:
    db = cairn.open(db_path)
    db.close()
    with pytest.raises(cairn.Closed) as info:
        call(db)
    assert info.value.status == "CAIRN_CLOSED"


def test_closed_batch_raises_closed() -> None:
    batch = cairn.WriteBatch()
    batch.close()
    batch.close()
    for call in (lambda: batch.put("k", "v"), lambda: batch.delete("k"), batch.clear, lambda: len(batch)):
        with pytest.raises(cairn.Closed):
            call()


def test_close_while_other_threads_use_the_database(db_path: Path) -> None:
    db = cairn.open(db_path, sync="never")
    started = threading.Barrier(5)

    def worker(t: int) -> int:
        started.wait()
        i = 0
        while True:
            try:
                db.put(f"{t}:{i}", "v")
                db.get(f"{t}:{i}")
                with db.iterate(prefix=f"{t}:") as it:
                    next(it)
            except cairn.Closed:
                return i
            i += 1

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(worker, t) for t in range(4)]
        started.wait()
        time.sleep(0.2)
        db.close()
        done = [f.result(timeout=30) for f in futures]
    assert all(n >= 0 for n in done)


# -- the C conventions, seen through the ctypes layer -----------------------------------


def test_errmsg_is_set_to_null_on_success_and_filled_on_failure(db: cairn.Database) -> None:
    sentinel = ctypes.create_string_buffer(b"python-owned, never freed by cairn")
    err = ctypes.c_char_p(ctypes.addressof(sentinel))
    ms = ctypes.c_int64()
    status = _ffi.lib.cairn_parse_duration(b"30s", 3, ctypes.byref(ms), ctypes.byref(err))
    assert status == 0 and ms.value == 30000
    assert err.value is None, "on success *errmsg must be set to NULL"
    status = _ffi.lib.cairn_parse_duration(b"5y", 2, ctypes.byref(ms), ctypes.byref(err))
    assert status == _ffi.Status.INVALID_ARGUMENT
    assert err.value, "a failing call must fill *errmsg"
    _ffi.lib.cairn_free(err)
    _ffi.lib.cairn_free(None)  # a no-op


def test_failed_open_sets_the_handle_to_null(tmp_path: Path) -> None:
    out = _ffi.db_p()
    status = _ffi.lib.cairn_open(os.fsencode(tmp_path / "x"), b"{", 1, ctypes.byref(out), None)
    assert status == _ffi.Status.INVALID_ARGUMENT
    assert not out


def test_library_version() -> None:
    assert cairn.library_version().count(".") == 2
    assert cairn.ABI_VERSION == 1


# -- threads ------------------------------------------------------------------------


def test_many_threads_share_one_database(db: cairn.Database) -> None:
    per_thread = 300

    def worker(t: int) -> None:
        for i in range(per_thread):
            key = f"t{t}:{i:04d}"
            db.put(key, str(i))
            assert db.get(key) == str(i).encode()
        with db.batch() as batch:
            batch.put(f"t{t}:batch", "b")
        with db.iterate(prefix=f"t{t}:") as it:
            assert sum(1 for _ in it) == per_thread + 1
        assert len(db.keys(prefix=f"t{t}:")) == per_thread + 1

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    assert len(db.keys()) == 8 * (per_thread + 1)
    assert db.stats()["live_keys"] == 8 * (per_thread + 1)


# -- processes: the directory lock ----------------------------------------------------


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    package_parent = str(Path(cairn.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [package_parent, env.get("PYTHONPATH")] if p)
    return env


HOLDER = textwrap.dedent(
    """
    import sys, time, cairn
    db = cairn.open(sys.argv[1])
    db.put("holder", "alive")
    print("ready", flush=True)
    time.sleep(300)
    """
)

OPENER = textwrap.dedent(
    """
    import sys, cairn
    try:
        cairn.open(sys.argv[1])
    except cairn.Busy as exc:
        print("busy", exc.code, exc.status)
        sys.exit(0)
    print("opened")
    sys.exit(1)
    """
)


def test_second_process_gets_busy_and_a_killed_holder_leaves_no_stale_lock(db_path: Path) -> None:
    env = _child_env()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    try:
        assert holder.stdout is not None and holder.stderr is not None
        ready, _, _ = select.select([holder.stdout], [], [], 60)
        assert ready, "the holder process did not start"
        line = holder.stdout.readline()
        assert line.strip() == "ready", f"the holder failed: {line!r} {holder.stderr.read()}"

        opener = subprocess.run(
            [sys.executable, "-c", OPENER, str(db_path)],
            check=False,
            capture_output=True,
            env=env,
            text=True,
            timeout=60,
        )
        assert opener.returncode == 0, opener.stdout + opener.stderr
        assert opener.stdout.split() == ["busy", "5", "CAIRN_BUSY"]
        with pytest.raises(cairn.Busy):
            cairn.open(db_path)

        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert holder.returncode == -signal.SIGKILL
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()

    with cairn.open(db_path) as db:
        assert db.get("holder") == b"alive"  # written with sync="always" before the kill


# -- loading the library --------------------------------------------------------------


def _import_in_child(prelude: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = prelude + "\nimport cairn\n"
    return subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, env=env, text=True, timeout=60
    )


def test_missing_library_gives_a_clear_error(tmp_path: Path) -> None:
    env = _child_env()
    env["CAIRN_LIBRARY"] = str(tmp_path / "nowhere" / "libcairn.so")
    result = _import_in_child("", env)
    assert result.returncode != 0
    assert "ImportError: cairn: native library not found" in result.stderr
    assert "CAIRN_LIBRARY" in result.stderr


def test_library_path_can_come_from_the_environment() -> None:
    env = _child_env()
    env["CAIRN_LIBRARY"] = _ffi.library_path()
    result = _import_in_child("", env)
    assert result.returncode == 0, result.stderr


def test_a_library_of_another_abi_version_is_refused() -> None:
    prelude = textwrap.dedent(
        """
        import ctypes

        class FakeFunction:
            argtypes = None
            restype = None
            def __call__(self):
                return 2

        class FakeLibrary:
            def __init__(self, path, *args, **kwargs):
                self.cairn_abi_version = FakeFunction()

        ctypes.CDLL = FakeLibrary
        """
    )
    result = _import_in_child(prelude, _child_env())
    assert result.returncode != 0
    assert "implements ABI version 2, but this cairn package was written for ABI version 1" in result.stderr


def test_flush_compaction_and_prometheus_metrics(tmp_path: Path) -> None:
    with cairn.open(str(tmp_path / "db"), sync="never", memtable_size_mb=1) as db:
        for i in range(5000):
            db.put(f"k{i:05d}", b"v" * 200)
        db.flush()
        for i in range(0, 5000, 2):
            db.delete(f"k{i:05d}")
        db.compact_range()
        stats = db.stats()
        assert stats["flushes"] >= 1 and stats["compactions"] >= 1
        assert stats["live_keys"] == 2500
        text = db.metrics()
        assert "# TYPE cairn_puts_total counter" in text
        assert "\ncairn_puts_total 5000\n" in text
        assert "cairn_get_p99_micros" in text
        assert db.get("k00001") == b"v" * 200 and db.get("k00002") is None
    with pytest.raises(cairn.Closed):
        db.metrics()
