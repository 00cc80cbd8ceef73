#!/bin/sh
# run-install-test.sh CMAKE BUILD_DIR WORK_DIR CC GENERATOR
#
# Installs the configured build in BUILD_DIR into a staging prefix
# (WORK_DIR/stage), then builds and runs consumer.c against it twice: with
# `pkg-config --cflags --libs cairn`, and as the CMake project in this
# directory through find_package(Cairn) and Cairn::cairn. Run by ctest as the
# test "install".
set -eu

if [ $# -ne 5 ]; then
  echo "usage: $0 CMAKE BUILD_DIR WORK_DIR CC GENERATOR" >&2
  exit 2
fi
cmake=$1 build=$2 work=$3 cc=$4 generator=$5
here=$(cd "$(dirname "$0")" && pwd)
stage=$work/stage

die() { echo "install: FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"

# 1. Install into the staging prefix.
"$cmake" --install "$build" --prefix "$stage" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; die "cmake --install failed"; }
for f in lib/libcairn.so include/cairn.h lib/pkgconfig/cairn.pc \
         lib/cmake/Cairn/CairnConfig.cmake lib/cmake/Cairn/CairnConfigVersion.cmake; do
  [ -f "$stage/$f" ] || die "$stage/$f was not installed"
done
# The versioned names: libcairn.so -> libcairn.so.MAJOR -> libcairn.so.X.Y.Z
# (a file), and the SONAME is libcairn.so.MAJOR.
version=$(sed -n 's/^#define CAIRN_VERSION_STRING "\(.*\)"$/\1/p' "$stage/include/cairn.h")
major=${version%%.*}
[ "$(readlink "$stage/lib/libcairn.so")" = "libcairn.so.$major" ] ||
  die "lib/libcairn.so is not a link to libcairn.so.$major"
[ "$(readlink "$stage/lib/libcairn.so.$major")" = "libcairn.so.$version" ] ||
  die "lib/libcairn.so.$major is not a link to libcairn.so.$version"
[ -f "$stage/lib/libcairn.so.$version" ] && [ ! -L "$stage/lib/libcairn.so.$version" ] ||
  die "lib/libcairn.so.$version is not a file"
soname=$(readelf -d "$stage/lib/libcairn.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "libcairn.so.$major" ] || die "SONAME is '$soname', want libcairn.so.$major"
echo "install: lib/libcairn.so -> libcairn.so.$major -> libcairn.so.$version, SONAME $soname"
cmp -s "$here/../../../include/cairn.h" "$stage/include/cairn.h" ||
  die "the installed cairn.h differs from include/cairn.h"

# The tool, when `make tool` built it before the install: it runs from the
# prefix and opens a database.
if [ -f "$stage/bin/cairn" ]; then
  "$stage/bin/cairn" put "$work/tool-db" installed yes >/dev/null 2>&1 &&
    [ "$("$stage/bin/cairn" get "$work/tool-db" installed)" = yes ] || die "bin/cairn does not run from the prefix"
  echo "install: bin/cairn runs from the prefix"
fi

# 2. A consumer built with pkg-config, as a Makefile user would.
PKG_CONFIG_PATH=$stage/lib/pkgconfig
export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs cairn) || die "pkg-config does not find cairn"
case " $flags " in
  *" -I$stage/include "*) ;;
  *) die "pkg-config --cflags does not point into the staged prefix: $flags" ;;
esac
header_version=$(sed -n 's/^#define CAIRN_VERSION_STRING "\(.*\)"$/\1/p' "$stage/include/cairn.h")
pc_version=$(pkg-config --modversion cairn)
[ "$pc_version" = "$header_version" ] ||
  die "cairn.pc says version $pc_version, cairn.h says $header_version"
echo "pkg-config --cflags --libs cairn: $flags"
# shellcheck disable=SC2086 # $flags holds several words
"$cc" -std=c99 -pedantic -Wall -Wextra -Werror -o "$work/consumer-pkg-config" \
  "$here/consumer.c" $flags || die "the pkg-config consumer does not compile"
# No LD_LIBRARY_PATH: cairn.pc's Libs carry an rpath to the staged lib.
case " $flags " in
  *" -Wl,-rpath,$stage/lib "*) ;;
  *) die "pkg-config --libs cairn carries no rpath to $stage/lib: $flags" ;;
esac
readelf -d "$work/consumer-pkg-config" | grep -q "NEEDED.*\[libcairn.so.$major\]" ||
  die "the pkg-config consumer does not need libcairn.so.$major"
env -u LD_LIBRARY_PATH "$work/consumer-pkg-config" "$work/db-pkg-config" pkg-config ||
  die "the pkg-config consumer failed"

# 3. A consumer built with CMake: find_package(Cairn) and Cairn::cairn.
"$cmake" -S "$here" -B "$work/cmake-consumer" -G "$generator" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_PREFIX_PATH="$stage" >"$work/cmake-consumer.log" 2>&1 ||
  { cat "$work/cmake-consumer.log"; die "configuring the find_package(Cairn) consumer failed"; }
grep -q "^Cairn_DIR:PATH=$stage/lib/cmake/Cairn\$" "$work/cmake-consumer/CMakeCache.txt" ||
  die "find_package(Cairn) did not find the staged package: $(grep '^Cairn_DIR' "$work/cmake-consumer/CMakeCache.txt")"
grep "Found Cairn" "$work/cmake-consumer.log" | sed 's/^-- //'
"$cmake" --build "$work/cmake-consumer" >>"$work/cmake-consumer.log" 2>&1 ||
  { cat "$work/cmake-consumer.log"; die "building the find_package(Cairn) consumer failed"; }
# No LD_LIBRARY_PATH: CMake gives the build-tree binary an RPATH to the staged lib.
env -u LD_LIBRARY_PATH "$work/cmake-consumer/cairn-consumer" "$work/db-cmake" find_package ||
  die "the find_package(Cairn) consumer failed"

rm -rf "$work/db-pkg-config" "$work/db-cmake"
echo "install: pkg-config and find_package(Cairn) consumers built and ran against $stage"
