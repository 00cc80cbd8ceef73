"""Builds the cairn-db wheel: the Python package with libcairn.so inside.

Everything else is in pyproject.toml. This file adds two steps:

- build_py copies the built library into the package, stripped of debug
  information and local symbols (the exported cairn_* functions stay). It
  takes $CAIRN_BUILD_LIBRARY, else the repository's build/lib/libcairn.so
  (`make lib`), else a libcairn.so copied into cairn/ by hand; with none of
  them it fails, saying to run `make lib`. A wheel without the library
  would install and then fail at `import cairn`.
- bdist_wheel tags the wheel for this platform (py3-none-linux_x86_64): it
  holds a native library, so it is not py3-none-any. The package has no
  extension modules and uses no CPython API (ctypes only), so one wheel
  serves every Python 3.10 or newer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools 70.1 and newer carry bdist_wheel
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # older setuptools: the wheel package's
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
LIBRARY_NAME = "libcairn.so"


def find_library() -> Path:
    """The libcairn.so to package, or SystemExit saying how to get one."""
    candidates = []
    if os.environ.get("CAIRN_BUILD_LIBRARY"):
        candidates.append(Path(os.environ["CAIRN_BUILD_LIBRARY"]))
    candidates.append(HERE.parent.parent / "build" / "lib" / LIBRARY_NAME)
    candidates.append(HERE / "cairn" / LIBRARY_NAME)
    for path in candidates:
        if path.is_file():
            return path.resolve()  # build/lib/libcairn.so is a link
    tried = "\n  ".join(str(p) for p in candidates)
    raise SystemExit(
        f"cairn-db: {LIBRARY_NAME} not found; looked at\n  {tried}\n"
        "Build it first: run `make lib` at the root of the Cairn repository "
        "(or set CAIRN_BUILD_LIBRARY=/path/to/libcairn.so)."
    )


class BuildPyWithLibrary(build_py):
    def run(self) -> None:
        super().run()
        source = find_library()
        target = Path(self.build_lib) / "cairn" / LIBRARY_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        os.chmod(target, 0o755)
        strip = shutil.which("strip")
        if strip is None:
            raise SystemExit("cairn-db: `strip` (binutils) is needed to strip libcairn.so")
        subprocess.run([strip, "--strip-unneeded", str(target)], check=True)
        print(f"cairn-db: packaged {source} (stripped) as {target}")


class BinaryDistribution(Distribution):
    """Holds a native library: installed into platlib, never 'pure'."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):

    def get_tag(self) -> tuple[str, str, str]:
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        return "py3", "none", platform


setup(distclass=BinaryDistribution, cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel})
