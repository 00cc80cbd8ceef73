"""Tests of the `cairn` tool (Sources/CairnTool), run by `make test-tool`.

The tool is the binary in $CAIRN_TOOL (make builds build/bin/cairn). The
round trips use $CAIRN_TOOL_TEST_DOCS documents (100,000 in `make test`,
1,000,000 in `make test-tool-1m`); the shell is driven through a
pseudo-terminal, as a person types at it.
"""
import json
import os
import pty
import select
import signal
import subprocess
import time

import pytest

TOOL = os.environ.get("CAIRN_TOOL", os.path.join(os.path.dirname(__file__), "../../build/bin/cairn"))
DOCS = int(os.environ.get("CAIRN_TOOL_TEST_DOCS", "100000"))


def cairn(*args, input=None, check=True):
    result = subprocess.run([TOOL, *args], input=input, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"cairn {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# One-shot commands

def test_help_lists_every_command():
    out = cairn("--help").stdout
    for name in ["shell", "import", "export", "get", "put", "del", "scan", "keys", "collections", "find",
                 "insert", "update", "delete", "aggregate", "explain", "indexes", "create-index", "stats", "metrics"]:
        assert f"\n  {name} " in out, name


def test_key_value_commands(tmp_path):
    db = str(tmp_path / "db")
    cairn("put", db, "user:1", "Zoë")
    cairn("put", db, "user:2", "Bob", "--ttl", "1h")
    cairn("put", db, "other", "x")
    assert cairn("get", db, "user:1").stdout == "Zoë\n"
    got = json.loads(cairn("get", db, "user:2", "--json").stdout)
    assert got["value"] == "Bob" and 0 < got["ttl_ms"] <= 3_600_000
    assert cairn("keys", db, "--prefix", "user:").stdout.split() == ["user:1", "user:2"]
    assert json.loads(cairn("keys", db, "--limit", "1", "--json").stdout) == ["other"]
    assert cairn("scan", db, "user:", "--limit", "1").stdout == "user:1\tZoë\n"
    assert lines(cairn("scan", db, "--json").stdout)[0] == {"key": "other", "value": "x"}
    cairn("del", db, "user:1")
    missing = cairn("get", db, "user:1", check=False)
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr


def test_document_commands(tmp_path):
    db = str(tmp_path / "db")
    people = [{"_id": i, "name": f"p{i}", "age": 20 + i, "city": "Oslo" if i % 2 else "Kyōto"} for i in range(10)]
    ids = json.loads(cairn("insert", db, "people", json.dumps(people)).stdout)["inserted_ids"]
    assert ids == list(range(10))
    assert json.loads(cairn("insert", db, "people", '{"_id": 99, "name": "solo"}').stdout) == {"inserted_id": 99}
    found = lines(cairn("find", db, "people", '{"age": {"$gt": 25}}', "--sort", '{"age": -1}', "--limit", "2",
                        "--projection", '{"name": 1}').stdout)
    assert found == [{"_id": 9, "name": "p9"}, {"_id": 8, "name": "p8"}]
    assert cairn("count", db, "people", '{"city": "Kyōto"}').stdout == "5\n"
    assert json.loads(cairn("update", db, "people", '{"age": {"$lt": 23}}', '{"$set": {"young": true}}', "--many").stdout) \
        == {"matched": 3, "modified": 3}
    assert json.loads(cairn("delete", db, "people", '{"_id": 99}').stdout) == {"deleted": 1}
    groups = lines(cairn("aggregate", db, "people",
                         '[{"$group": {"_id": "$city", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]').stdout)
    assert groups == [{"_id": "Kyōto", "n": 5}, {"_id": "Oslo", "n": 5}]
    assert json.loads(cairn("create-index", db, "people", '{"age": 1}', "--name", "by_age").stdout) == {"created": "by_age"}
    assert [i["name"] for i in lines(cairn("indexes", db, "people").stdout)] == ["by_age"]
    plan = json.loads(cairn("explain", db, "people", '{"age": 24}').stdout)
    assert "by_age" in json.dumps(plan)
    assert cairn("collections", db).stdout == "people\n"
    stats = json.loads(cairn("stats", db, "--json").stdout)
    assert stats["engine"]["live_keys"] == 0 and "write_amplification" in stats["engine"]
    coll = stats["collections"][0]
    assert coll["name"] == "people" and coll["documents"] == 10 and coll["indexes"][0]["entries"] == 10
    text = cairn("stats", db).stdout
    for section in ["levels", "sizes", "amplification", "caches", "collections", "index by_age"]:
        assert section in text
    assert "cairn_puts_total" in cairn("metrics", db).stdout
    table = cairn("find", db, "people", '{"_id": {"$lt": 2}}', "--format", "table").stdout.splitlines()
    assert table[0].split(" | ")[:3] == ["_id", "name", "age"] and table[-1] == "(2 rows)"
    csv = cairn("find", db, "people", '{"_id": 1}', "--format", "csv").stdout.splitlines()
    assert csv == ["_id,name,age,city,young", "1,p1,21,Oslo,true"]


def test_errors_name_the_problem(tmp_path):
    missing = cairn("find", str(tmp_path / "nothing"), "c", check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    db = str(tmp_path / "db")
    cairn("put", db, "k", "v")
    bad = cairn("find", db, "c", '{"a": ', check=False)
    assert bad.returncode == 1 and "INVALID_ARGUMENT" in bad.stderr
    usage = cairn("find", db, check=False)
    assert usage.returncode == 64 and "collection" in usage.stderr


# Import and export

def write_people(path, count):
    """NDJSON with unicode, nested fields and dates; returns nothing."""
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            f.write(json.dumps({"_id": i, "name": f"Zoë 名前 {i} 🚀 \"q\", comma", "age": i % 97, "score": i * 0.5,
                                "born": {"$date": f"2001-02-{i % 28 + 1:02d}T03:04:05.678Z"}, "nested": {"x": i}},
                               ensure_ascii=False) + "\n")


def test_round_trip_ndjson(tmp_path):
    src, out, again = tmp_path / "in.ndjson", tmp_path / "out.ndjson", tmp_path / "again.ndjson"
    write_people(src, DOCS)
    db = str(tmp_path / "db")
    started = time.time()
    summary = json.loads(cairn("import", db, "people", str(src), "--json").stdout)
    assert summary["imported"] == DOCS and summary["skipped"] == 0 and summary["failed"] == 0
    cairn("export", db, "people", "-o", str(out))
    cairn("import", db, "copy", str(out))
    cairn("export", db, "copy", "-o", str(again))
    print(f"NDJSON round trip of {DOCS} documents: {time.time() - started:.1f} s")
    assert out.read_bytes() == again.read_bytes()
    with open(src, encoding="utf-8") as a, open(out, encoding="utf-8") as b:
        count = 0
        for x, y in zip(a, b):
            x, y = json.loads(x), json.loads(y)
            assert x["name"] == y["name"] and x["nested"] == y["nested"] and x["born"]["$date"] == y["born"]["$date"]
            count += 1
    assert count == DOCS


def test_round_trip_csv(tmp_path):
    src, csv, again = tmp_path / "in.ndjson", tmp_path / "out.csv", tmp_path / "again.csv"
    write_people(src, DOCS)
    db = str(tmp_path / "db")
    cairn("import", db, "people", str(src))
    started = time.time()
    fields = "_id,name,age,score,born,nested.x"
    cairn("export", db, "people", "--type", "csv", "--fields", fields, "-o", str(csv))
    typed = "_id.int64(),name.string(),age.int64(),score.double(),born.date(),nested.x.int64()"
    summary = json.loads(cairn("import", db, "fromcsv", str(csv), "--headerline", "--fields", typed,
                               "--columnsHaveTypes", "--json").stdout)
    assert summary == {**summary, "imported": DOCS, "skipped": 0, "failed": 0}
    cairn("export", db, "fromcsv", "--type", "csv", "--fields", fields, "-o", str(again))
    print(f"CSV round trip of {DOCS} documents: {time.time() - started:.1f} s")
    assert csv.read_bytes() == again.read_bytes()
    first = lines(cairn("find", db, "fromcsv", '{"_id": 7}').stdout)[0]
    assert first == {"_id": 7, "name": "Zoë 名前 7 🚀 \"q\", comma", "age": 7, "score": 3.5,
                     "born": {"$date": "2001-02-08T03:04:05.678Z"}, "nested": {"x": 7}}
    # Without types every cell is a string.
    cairn("import", db, "untyped", str(csv))
    assert lines(cairn("find", db, "untyped", '{"_id": "7"}').stdout)[0]["age"] == "7"


def test_json_array_and_extended_json(tmp_path):
    src = tmp_path / "a.json"
    src.write_text('[\n {"_id": 1, "s": "a]},{"},\n {"_id": 2, "bin": {"$binary": {"base64": "AAEC", "subType": "00"}}},\n'
                   ' {"_id": 3, "when": {"$date": {"$numberLong": "86400000"}}}\n]\n', encoding="utf-8")
    db = str(tmp_path / "db")
    summary = json.loads(cairn("import", db, "c", str(src), "--json").stdout)
    assert summary["imported"] == 3
    docs = lines(cairn("find", db, "c").stdout)
    assert docs[0]["s"] == "a]},{" and docs[1]["bin"]["$binary"]["base64"] == "AAEC"
    assert docs[2]["when"] == {"$date": "1970-01-02T00:00:00.000Z"}
    oid = tmp_path / "oid.ndjson"
    oid.write_text('{"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "ref": [{"$oid": "65a1b2c3d4e5f60718293a4c"}]}\n')
    cairn("import", db, "o", str(oid))
    assert lines(cairn("find", db, "o").stdout) == [{"_id": "65a1b2c3d4e5f60718293a4b", "ref": ["65a1b2c3d4e5f60718293a4c"]}]
    out = tmp_path / "out.json"
    cairn("export", db, "c", "--jsonArray", "-o", str(out))
    assert json.loads(out.read_text(encoding="utf-8")) == docs


def test_bad_lines_are_reported_with_their_numbers(tmp_path):
    src = tmp_path / "bad.ndjson"
    src.write_text('{"_id": 1}\n{"_id": 2}\n{not json\n\n{"_id": 1}\n[1, 2]\n{"_id": 3}\n', encoding="utf-8")
    db = str(tmp_path / "db")
    result = cairn("import", db, "c", str(src))
    assert "line 3: " in result.stderr and "line 5: CAIRN_CONSTRAINT" in result.stderr and "line 6: " in result.stderr
    assert "imported 3 documents, skipped 2, failed 1" in result.stderr
    stopped = cairn("import", db, "d", str(src), "--stop-on-error", check=False)
    assert stopped.returncode == 1 and "line 3: " in stopped.stderr and "line 5" not in stopped.stderr
    assert cairn("count", db, "d").stdout == "2\n"
    csv = tmp_path / "bad.csv"
    csv.write_text('name.string(),age.int64()\nada,36\nbob,old\n"multi\nline",7\n"open,9\n', encoding="utf-8")
    result = cairn("import", db, "e", str(csv), "--columnsHaveTypes")
    assert "line 3: field age: 'old' is not an int64" in result.stderr
    assert "line 6: a quoted field is not closed" in result.stderr
    assert lines(cairn("find", db, "e", '{"age": 7}').stdout)[0]["name"] == "multi\nline"


def test_upsert_and_merge_modes(tmp_path):
    db = str(tmp_path / "db")
    cairn("insert", db, "c", '[{"_id": 1, "a": 1, "b": 1}, {"_id": 2, "a": 2, "b": 2}]')
    src = tmp_path / "u.ndjson"
    src.write_text('{"_id": 1, "a": 10}\n{"_id": 3, "a": 30}\n', encoding="utf-8")
    cairn("import", db, "c", str(src), "--mode", "upsert")
    assert lines(cairn("find", db, "c").stdout) == [{"_id": 1, "a": 10}, {"_id": 2, "a": 2, "b": 2}, {"_id": 3, "a": 30}]
    src.write_text('{"_id": 2, "a": 20}\n', encoding="utf-8")
    cairn("import", db, "c", str(src), "--mode", "merge")
    assert lines(cairn("find", db, "c", '{"_id": 2}').stdout) == [{"_id": 2, "a": 20, "b": 2}]
    src.write_text('{"email": "x@y", "n": 1}\n{"email": "x@y", "n": 2}\n', encoding="utf-8")
    cairn("import", db, "m", str(src), "--mode", "upsert", "--upsertFields", "email")
    docs = lines(cairn("find", db, "m").stdout)
    assert len(docs) == 1 and docs[0]["n"] == 2


def test_key_value_import_export(tmp_path):
    src = tmp_path / "kv.ndjson"
    src.write_text('{"key": "a", "value": "Zoë"}\n{"key": "b", "value": {"$binary": {"base64": "AP8="}}, "ttl": "1h"}\n'
                   '{"key": {"$binary": {"base64": "/w=="}}, "value": "binary key", "ttl_ms": 60000}\n{"key": 5}\n',
                   encoding="utf-8")
    db = str(tmp_path / "db")
    result = cairn("import", db, "--kv", str(src))
    assert "line 4: " in result.stderr and "imported 3 pairs, skipped 1" in result.stderr
    out = tmp_path / "out.ndjson"
    cairn("export", db, "--kv", "-o", str(out))
    pairs = lines(out.read_text(encoding="utf-8"))
    assert pairs[0] == {"key": "a", "value": "Zoë"}
    assert pairs[1]["value"] == {"$binary": {"base64": "AP8=", "subType": "00"}} and 0 < pairs[1]["ttl_ms"] <= 3_600_000
    assert pairs[2]["key"] == {"$binary": {"base64": "/w==", "subType": "00"}} and 0 < pairs[2]["ttl_ms"] <= 60_000
    db2 = str(tmp_path / "db2")
    cairn("import", db2, "--kv", str(out))
    again = tmp_path / "again.ndjson"
    cairn("export", db2, "--kv", "-o", str(again))
    assert [{k: v for k, v in p.items() if k != "ttl_ms"} for p in lines(again.read_text(encoding="utf-8"))] == \
        [{k: v for k, v in p.items() if k != "ttl_ms"} for p in pairs]


# The shell

class Shell:
    """`cairn shell DB` on a pseudo-terminal."""

    def __init__(self, db, tmp_path):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["HOME"] = str(tmp_path)  # the history file goes there
            os.execv(TOOL, [TOOL, "shell", db])
        self.buffer = b""
        self.closed = False

    def expect(self, text, timeout=20):
        end = time.time() + timeout
        while text.encode() not in self.buffer:
            ready, _, _ = select.select([self.fd], [], [], max(0, end - time.time()))
            if not ready:
                raise AssertionError(f"no {text!r} in {self.buffer[-800:]!r}")
            try:
                self.buffer += os.read(self.fd, 65536)
            except OSError:
                raise AssertionError(f"the shell ended; it printed {self.buffer[-800:]!r}")
        index = self.buffer.index(text.encode()) + len(text)
        seen, self.buffer = self.buffer[:index], self.buffer[index:]
        return seen.decode("utf-8", errors="replace")

    def run(self, line):
        os.write(self.fd, line.encode() + b"\r")
        return self.expect("cairn> ")

    def close(self):
        os.write(self.fd, b".quit\r")
        _, status = os.waitpid(self.pid, 0)
        self.closed = True
        os.close(self.fd)
        return status


def test_shell_modes_timer_multiline_and_ctrl_c(tmp_path):
    db = str(tmp_path / "db")
    # 20,000 x 20,000 through $lookup: minutes of work unless interrupted.
    big = tmp_path / "big.json"
    big.write_text(json.dumps([{"x": i} for i in range(20_000)]))
    cairn("import", db, "big", str(big), "--quiet")
    shell = Shell(db, tmp_path)
    try:
        run_shell_session(shell)
    finally:
        if not shell.closed:  # a failure: end the shell, and its aggregation
            os.kill(shell.pid, signal.SIGKILL)
            os.waitpid(shell.pid, 0)


def run_shell_session(shell):
    shell.expect("cairn> ")
    # JSON over several lines: the shell reads on while a bracket is open.
    os.write(shell.fd, b'insert people {"name": "Ada",\r')
    shell.expect("...> ")
    os.write(shell.fd, b'  "langs": ["en",\r')
    shell.expect("...> ")
    assert '"inserted_id"' in shell.run('  "fr"], "age": 36}')
    shell.run('insert people {"name": "Zoë", "age": 7}')
    shell.run(".mode table")
    out = shell.run("find people {} --sort {\"age\": 1} --projection {\"_id\": 0}")
    rows = [line.strip() for line in out.splitlines() if "|" in line]
    assert rows[0].split(" | ") == ["name", "age", "langs"]
    assert [cell.strip() for cell in rows[1].split("|")][:2] == ["Zoë", "7"]
    assert "(2 rows)" in out
    shell.run(".mode csv")
    assert "name,age" in shell.run('find people {"age": 7} --projection {"_id": 0, "name": 1, "age": 1}')
    shell.run(".timer on")
    assert "Run Time: " in shell.run("count people")
    shell.run(".timer off")
    assert "Error: " in shell.run("find people {\"$bad\": 1}")
    # Ctrl-C stops the long aggregation, and the shell goes on.
    shell.run(".mode ndjson")
    os.write(shell.fd, b'aggregate big [{"$lookup": {"from": "big", "pipeline": [{"$match": {"x": {"$gte": 0}}},'
                       b' {"$count": "n"}], "as": "c"}}, {"$count": "n"}]\r')
    time.sleep(0.5)
    started = time.time()
    os.write(shell.fd, b"\x03")
    out = shell.expect("cairn> ")
    assert "interrupted" in out and time.time() - started < 5
    assert "2" in shell.run("count people")
    # Ctrl-C at the prompt drops the line being typed.
    os.write(shell.fd, b'count big {"x": ')
    time.sleep(0.2)
    os.write(shell.fd, b"\x03")
    shell.expect("cairn> ")
    assert "1" in shell.run('count big {"x": 5}').split()
    assert shell.close() == 0


def test_shell_reads_a_pipe(tmp_path):
    db = str(tmp_path / "db")
    script = 'put k v\nget k\ninsert c {"a":\n  1}\n.mode csv\nfind c {} --projection {"_id": 0}\nnope\n'
    result = subprocess.run([TOOL, "shell", db], input=script, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == "v" and result.stdout.splitlines()[-2:] == ["a", "1"]
    assert "nope" in result.stderr


def test_progress_bar_on_a_terminal(tmp_path):
    src = tmp_path / "in.ndjson"
    write_people(src, 50_000)
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(TOOL, [TOOL, "import", str(tmp_path / "db"), "people", str(src), "--batch-size", "500"])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    text = out.decode("utf-8", errors="replace")
    assert status == 0
    assert "] 100% 50,000 docs" in text and "docs/s  ETA " in text and " of " in text
    assert "imported 50,000 documents, skipped 0, failed 0" in text


def test_csv_inference_tsv_and_blanks(tmp_path):
    db = str(tmp_path / "db")
    csv = tmp_path / "p.csv"
    csv.write_text("name,age,ok,ratio,note\nada,36,true,0.5,\n", encoding="utf-8")
    cairn("import", db, "strings", str(csv))
    assert lines(cairn("find", db, "strings", "--projection", '{"_id": 0}').stdout) == \
        [{"name": "ada", "age": "36", "ok": "true", "ratio": "0.5", "note": ""}]
    cairn("import", db, "inferred", str(csv), "--infer-types", "--ignoreBlanks")
    assert lines(cairn("find", db, "inferred", "--projection", '{"_id": 0}').stdout) == \
        [{"name": "ada", "age": 36, "ok": True, "ratio": 0.5}]
    tsv = tmp_path / "p.tsv"
    tsv.write_text("a.b\tc\nx, y\t\"q\"\n", encoding="utf-8")
    cairn("import", db, "tabs", str(tsv))
    assert lines(cairn("find", db, "tabs", "--projection", '{"_id": 0}').stdout) == [{"a": {"b": "x, y"}, "c": "q"}]


def test_ttl_indexes_inserts_with_a_ttl_and_links(tmp_path):
    db = str(tmp_path / "db")
    cairn("create-index", db, "events", '{"at": 1}', "--expire-after-seconds", "0")
    cairn("insert", db, "events", '[{"_id": 1, "at": {"$date": "2001-01-01T00:00:00Z"}}, '
                                  '{"_id": 2, "at": {"$date": "2100-01-01T00:00:00Z"}}]')
    assert [d["_id"] for d in lines(cairn("find", db, "events", "{}").stdout)] == [2]
    assert '"expireAfterSeconds": 0' in cairn("indexes", db, "events").stdout.replace('":0', '": 0')
    cairn("insert", db, "sessions", '{"_id": "s1"}', "--ttl", "1h")
    cairn("insert", db, "sessions", '[{"_id": "s2"}, {"_id": "s3"}]', "--ttl", "1h")
    stored = lines(cairn("find", db, "sessions", "{}").stdout)
    assert [d["_id"] for d in stored] == ["s1", "s2", "s3"] and all("_expiresAt" in d for d in stored)
    assert cairn("insert", db, "sessions", "{}", "--ttl", "soon", check=False).returncode == 1

    cairn("put", db, "user:1", "ann")
    cairn("link", db, "user:1", "sessions", '"s1"', "--metadata", '{"role": "owner"}')
    cairn("link", db, "user:1", "events", "2")
    assert lines(cairn("links", db, "user:1").stdout) == [
        {"collection": "events", "id": 2, "metadata": None},
        {"collection": "sessions", "id": "s1", "metadata": {"role": "owner"}},
    ]
    assert lines(cairn("links", db, "--collection", "events", "--id", "2").stdout) == [
        {"key": "user:1", "key_base64": "dXNlcjox", "metadata": None}
    ]
    assert json.loads(cairn("unlink", db, "user:1", "events", "2").stdout) == {"removed": 1}
    assert json.loads(cairn("unlink", db, "user:1").stdout) == {"removed": 1}
    missing = cairn("link", db, "nobody", "events", "2", check=False)
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr


def test_checkpoint_backup_restore_and_verify(tmp_path):
    db = str(tmp_path / "db")
    cairn("insert", db, "people", '[{"_id": 1, "name": "ann"}, {"_id": 2, "name": "bo"}]')
    cairn("put", db, "k", "v")
    cairn("compact", db)  # a table to damage below
    copy = str(tmp_path / "copy")
    report = json.loads(cairn("checkpoint", db, copy).stdout)
    assert isinstance(report, dict) and report
    assert [d["_id"] for d in lines(cairn("find", copy, "people", "{}").stdout)] == [1, 2]
    verified = json.loads(cairn("verify", db).stdout)
    assert verified["ok"] is True

    backups = str(tmp_path / "backups")
    first = json.loads(cairn("backup", db, backups).stdout)
    cairn("insert", db, "people", '{"_id": 3, "name": "cy"}')
    second = json.loads(cairn("backup", db, backups).stdout)
    listed = json.loads(cairn("backups", "list", backups).stdout)
    assert [b["id"] for b in listed] == [first["id"], second["id"]]
    assert json.loads(cairn("backups", "verify", backups, str(first["id"])).stdout)["ok"] is True
    restored = str(tmp_path / "restored")
    cairn("restore", backups, str(first["id"]), restored)
    assert [d["_id"] for d in lines(cairn("find", restored, "people", "{}").stdout)] == [1, 2]
    assert cairn("get", restored, "k").stdout == "v\n"
    cairn("backups", "purge", backups, "--keep", "1")
    assert [b["id"] for b in json.loads(cairn("backups", "list", backups).stdout)] == [second["id"]]
    missing = cairn("restore", backups, "999", str(tmp_path / "nowhere"), check=False)
    assert missing.returncode == 1 and "NOT_FOUND" in missing.stderr

    # Damage is reported by file, with exit status 1.
    tables = [name for name in os.listdir(copy) if name.endswith(".sst")]
    assert tables
    path = os.path.join(copy, tables[0])
    with open(path, "r+b") as f:
        f.seek(10)
        f.write(b"\xff\xff\xff\xff")
    damaged = cairn("verify", copy, check=False)
    assert damaged.returncode == 1 and tables[0] in damaged.stdout


def test_read_commands_work_beside_a_writer(tmp_path):
    db = str(tmp_path / "db")
    cairn("insert", db, "people", '{"_id": 1, "name": "ann"}')
    # A writer in another process holds the database open (and its lock).
    holder = subprocess.Popen([TOOL, "shell", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        holder.stdin.write('insert people {"_id": 2, "name": "bo"}\n')
        holder.stdin.flush()
        deadline = time.time() + 20
        while time.time() < deadline:
            found = cairn("find", db, "people", "{}", check=False)
            if found.returncode == 0 and len(lines(found.stdout)) == 2:
                break
            time.sleep(0.1)
        assert [d["_id"] for d in lines(found.stdout)] == [1, 2]
        assert cairn("count", db, "people").stdout == "2\n"
        busy = cairn("insert", db, "people", '{"_id": 3}', check=False)
        assert busy.returncode == 1 and "BUSY" in busy.stderr and "pid" in busy.stderr
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
