"""The ctypes declarations cannot drift from include/cairn.h.

The header is parsed here, independently of the binding: every function it
declares must have a row in _ffi.FUNCTIONS with the ctypes types its C types
map to (and be declared so on the loaded library), every row must name a
function of the header, and the status codes and constants must agree.
"""

from __future__ import annotations

import ctypes
import re
from ctypes import POINTER, c_char, c_char_p, c_int, c_int64, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p
from dataclasses import dataclass
from typing import Any

import pytest
from support import repo_path

import cairn
from cairn import _ffi, errors

HEADER = repo_path("CAIRN_HEADER", "include/cairn.h")


@dataclass(frozen=True)
class CType:
    base: str  # "int", "uint8_t", "cairn_db", ...
    stars: int  # pointer depth
    const: bool = False  # the pointed-to type is const

    def __str__(self) -> str:
        return self.base + " " + "*" * self.stars if self.stars else self.base


@dataclass(frozen=True)
class Function:
    name: str
    result: CType
    params: tuple[CType, ...]


def _strip(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"#ifdef\s+__cplusplus.*?#endif", " ", text, flags=re.DOTALL)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _ctype(text: str) -> CType:
    stars = text.count("*")
    all_words = text.replace("*", " ").split()
    words = [w for w in all_words if w != "const"]
    assert words, f"no type in {text!r}"
    return CType(" ".join(words), stars, "const" in all_words)


def _parse_param(text: str) -> CType:
    match = re.fullmatch(r"(.*?[\s*])(\w+)", text.strip(), flags=re.DOTALL)
    assert match, f"cannot parse parameter {text!r}"
    return _ctype(match.group(1))


class Header:
    def __init__(self, text: str) -> None:
        self.text = text
        code = _strip(text)
        self.handles = set(re.findall(r"typedef\s+struct\s+(\w+)\s+\1\s*;", code))
        self.functions: dict[str, Function] = {}
        for statement in code.split(";"):
            statement = " ".join(statement.split())
            if "(" not in statement or statement.startswith(("typedef", "enum")):
                continue
            match = re.fullmatch(r"(.+?)\b(cairn_\w+)\s*\((.*)\)", statement)
            assert match, f"cannot parse declaration {statement!r}"
            result, name, params = match.groups()
            assert name not in self.functions, f"{name} declared twice"
            plist = () if params.strip() == "void" else tuple(_parse_param(p) for p in params.split(","))
            self.functions[name] = Function(name, _ctype(result), plist)
        enum = re.search(r"enum\s+cairn_status\s*\{(.*?)\}", code, flags=re.DOTALL)
        assert enum, "enum cairn_status not found"
        self.statuses = {name: int(value) for name, value in re.findall(r"(CAIRN_\w+)\s*=\s*(\d+)", enum.group(1))}

    def define(self, name: str) -> str:
        match = re.search(rf"^#define\s+{name}\s+(.+?)\s*(?:/\*.*)?$", self.text, flags=re.MULTILINE)
        assert match, f"#define {name} not found"
        return match.group(1)


@pytest.fixture(scope="module")
def header() -> Header:
    return Header(HEADER.read_text(encoding="utf-8"))


_SCALARS: dict[str, Any] = {
    "int": c_int,
    "size_t": c_size_t,
    "int64_t": c_int64,
    "uint64_t": c_uint64,
    "uint8_t": c_uint8,
    "uint32_t": c_uint32,
    "char": c_char,
    "double": ctypes.c_double,
}


def expected_ctype(t: CType, header: Header) -> Any:
    """The ctypes type the binding must use for C type `t` (see _ffi's docstring)."""
    stars = t.stars
    if t.base in header.handles:
        handle = getattr(_ffi, t.base, None)
        assert isinstance(handle, type) and issubclass(handle, ctypes.Structure), (
            f"_ffi must define the opaque handle type {t.base} as a ctypes.Structure"
        )
        result: Any = handle
    elif t.base.endswith("_callback") and stars == 0:
        # A function-pointer typedef: _ffi defines its CFUNCTYPE under the same name.
        result = getattr(_ffi, t.base, None)
        assert result is not None, f"_ffi must define the callback type {t.base}"
        return result
    elif t.base == "void":
        if stars == 0:
            return None
        result, stars = c_void_p, stars - 1
    elif t.base == "char" and stars >= 1:
        result, stars = c_char_p, stars - 1
    elif t.base == "uint8_t" and stars == 1 and t.const:
        # Binary input: bytes are passed as they are (no cast per call).
        return c_char_p
    else:
        assert t.base in _SCALARS, f"the test knows no ctypes mapping for C type {t}"
        result = _SCALARS[t.base]
    for _ in range(stars):
        result = POINTER(result)
    return result


def _name(t: Any) -> str:
    return "None" if t is None else getattr(t, "__name__", repr(t))


def _mismatches(name: str, restype: Any, argtypes: Any, header: Header) -> list[str]:
    fn = header.functions[name]
    want_res = expected_ctype(fn.result, header)
    want_args = [expected_ctype(p, header) for p in fn.params]
    problems = []
    if restype is not want_res:
        problems.append(f"{name}: restype is {_name(restype)}, the header's {fn.result} needs {_name(want_res)}")
    got_args = list(argtypes or [])
    if len(got_args) != len(want_args):
        problems.append(f"{name}: {len(got_args)} argtypes, the header declares {len(want_args)} parameters")
    else:
        for i, (got, want, ct) in enumerate(zip(got_args, want_args, fn.params)):
            if got is not want:
                problems.append(f"{name}: argument {i} is {_name(got)}, the header's {ct} needs {_name(want)}")
    return problems


def test_header_parses(header: Header) -> None:
    assert len(header.functions) >= 20
    assert {"cairn_db", "cairn_batch", "cairn_iter", "cairn_cursor"} <= header.handles


def test_table_has_no_duplicate_rows() -> None:
    names = [row[0] for row in _ffi.FUNCTIONS]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_every_header_function_is_declared_in_the_table(header: Header) -> None:
    table = {name: (restype, argtypes) for name, restype, argtypes in _ffi.FUNCTIONS}
    missing = sorted(set(header.functions) - set(table))
    assert not missing, f"declared in cairn.h but missing from _ffi.FUNCTIONS: {missing}"
    problems = [p for name in header.functions for p in _mismatches(name, *table[name], header)]
    assert not problems, "\n".join(problems)


def test_every_table_row_is_in_the_header(header: Header) -> None:
    extra = sorted({row[0] for row in _ffi.FUNCTIONS} - set(header.functions))
    assert not extra, f"in _ffi.FUNCTIONS but not declared in cairn.h: {extra}"


def test_loaded_library_functions_carry_the_declarations(header: Header) -> None:
    problems = []
    for name in header.functions:
        fn = getattr(_ffi.lib, name)
        problems += _mismatches(name, fn.restype, fn.argtypes, header)
    assert not problems, "\n".join(problems)


def test_status_codes_match_both_ways(header: Header) -> None:
    ours = {f"CAIRN_{s.name}": int(s) for s in _ffi.Status}
    assert ours == header.statuses


def test_every_error_status_has_its_own_exception_class(header: Header) -> None:
    classes = set()
    for name, code in header.statuses.items():
        assert _ffi.status_name(code) == name, "the library names the status differently"
        if name in ("CAIRN_OK", "CAIRN_DONE"):
            continue
        exc = errors.error_for(code, "m")
        assert type(exc) is not errors.Error and isinstance(exc, errors.Error), name
        assert (exc.code, exc.status) == (code, name)
        classes.add(type(exc))
    assert len(classes) == len(header.statuses) - 2
    assert _ffi.status_name(12345) == "CAIRN_UNKNOWN"
    assert type(errors.error_for(12345, "m")) is errors.Error


def test_constants_match(header: Header) -> None:
    assert int(header.define("CAIRN_ABI_VERSION")) == _ffi.ABI_VERSION == cairn.ABI_VERSION
    assert _ffi.lib.cairn_abi_version() == _ffi.ABI_VERSION
    assert int(header.define("CAIRN_ABSENT").rstrip("uU"), 16) == _ffi.ABSENT
    assert int(header.define("CAIRN_ITER_REVERSE")) == _ffi.ITER_REVERSE
    assert int(header.define("CAIRN_TXN_READ_ONLY"), 0) == _ffi.TXN_READ_ONLY
    assert header.define("CAIRN_VERSION_STRING") == f'"{cairn.library_version()}"'
