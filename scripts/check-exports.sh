#!/usr/bin/env bash
# check-exports.sh LIB HEADER
#
# Checks the promises that libcairn.so makes at the symbol level:
#   1. the functions it exports are exactly the functions HEADER declares
#      (both ways: nothing missing, nothing extra);
#   2. it exports no symbol of any kind that does not start with cairn_;
#   3. it needs no Swift runtime or Foundation library at run time (the
#      Swift standard library is linked in statically);
#   4. its SONAME is libcairn.so.MAJOR, MAJOR being HEADER's CAIRN_VERSION_MAJOR.
# Prints every difference and exits non-zero on any; on success prints e.g.
#   exports: 27 functions match include/cairn.h
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 LIB HEADER" >&2
  exit 2
fi
lib=$1
header=$2
[ -f "$lib" ] || { echo "exports: $lib does not exist (run make lib)" >&2; exit 2; }
[ -f "$header" ] || { echo "exports: $header does not exist" >&2; exit 2; }
shown_header=${header#"$PWD"/}
status=0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Function names the header declares: preprocess it (which drops comments,
# where function names also appear), then take each cairn_* name followed by
# an opening parenthesis.
${CC:-cc} -E -P -x c "$header" |
  grep -oE '\bcairn_[A-Za-z0-9_]+[[:space:]]*\(' |
  sed -E 's/[[:space:]]*\($//' | sort -u >"$tmp/header"

# Every symbol the library defines in its dynamic symbol table, with its nm
# type letter. Upper case (and u, i) is a global or weak symbol: an export.
# Lower case is a LOCAL symbol, which the dynamic linker never binds to.
nm -D --defined-only "$lib" | awk 'NF >= 3 { print $2, $3 } NF == 2 { print $1, $2 }' \
  | sed -E 's/@.*$//' | sort -u >"$tmp/dynsym"
awk '$1 ~ /^[A-Zui]$/' "$tmp/dynsym" >"$tmp/all"
awk '$1 !~ /^[A-Zui]$/ { print $2 }' "$tmp/dynsym" >"$tmp/local"
# Exported code symbols (T: text, W: weak, i: indirect function) are the functions.
awk '$1 ~ /^[TWi]$/ { print $2 }' "$tmp/all" | sort -u >"$tmp/lib"

if [ ! -s "$tmp/header" ]; then
  echo "exports: found no function declarations in $shown_header" >&2
  exit 1
fi

missing=$(comm -23 "$tmp/header" "$tmp/lib")
extra=$(comm -13 "$tmp/header" "$tmp/lib")
if [ -n "$missing" ]; then
  echo "exports: declared in $shown_header but not exported by $lib:"
  printf '  %s\n' $missing
  status=1
fi
if [ -n "$extra" ]; then
  echo "exports: exported by $lib but not declared in $shown_header:"
  printf '  %s\n' $extra
  status=1
fi

# Any exported symbol, of any kind, outside the cairn_ namespace.
foreign=$(awk '$2 !~ /^cairn_/ { print "  " $1 " " $2 }' "$tmp/all")
if [ -n "$foreign" ]; then
  echo "exports: $lib exports symbols that do not start with cairn_ (type, name):"
  echo "$foreign" | head -n 50
  n=$(echo "$foreign" | wc -l)
  [ "$n" -le 50 ] || echo "  ... and $((n - 50)) more"
  status=1
fi

if [ -s "$tmp/local" ]; then
  echo "exports: note: .dynsym also holds $(wc -l <"$tmp/local" | tr -d ' ') LOCAL symbols (not exported):" \
    "$(head -n 5 "$tmp/local" | tr '\n' ' ')"
fi

# Run-time dependencies: no Swift runtime, no Foundation, no ICU.
if ! ldd_out=$(ldd "$lib" 2>&1); then
  echo "exports: ldd $lib failed: $ldd_out"
  status=1
else
  deps=$(echo "$ldd_out" | awk '/=>/ || /^[[:space:]]*\// { print $1 }' | sed -E 's@.*/@@' \
    | sort -u | tr '\n' ' ')
  bad=$(echo "$ldd_out" |
    grep -E 'lib(swift|Foundation|_Foundation|FoundationEssentials|dispatch|BlocksRuntime|icu)|not found' ||
    true)
  if [ -n "$bad" ]; then
    echo "exports: ldd: $lib needs Swift runtime libraries, or libraries that are not found:"
    echo "$bad"
    status=1
  else
    deps=${deps% }
    echo "exports: ldd: no libswift*/libFoundation* needed (needs: ${deps:-nothing})"
  fi
fi

# The SONAME: libcairn.so.MAJOR, MAJOR from the header's CAIRN_VERSION_MAJOR.
major=$(sed -n 's/^#define CAIRN_VERSION_MAJOR *\([0-9][0-9]*\) *$/\1/p' "$header")
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" != "libcairn.so.$major" ]; then
  echo "exports: $lib has SONAME '${soname:-none}', want libcairn.so.$major (CAIRN_VERSION_MAJOR of $shown_header)"
  status=1
else
  echo "exports: SONAME $soname"
fi

if [ "$status" -eq 0 ]; then
  echo "exports: $(wc -l <"$tmp/header" | tr -d ' ') functions match $shown_header"
fi
exit "$status"
