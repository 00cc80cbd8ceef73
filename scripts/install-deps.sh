#!/usr/bin/env bash
# Installs the Debian packages Cairn builds and tests with, but only those
# that are missing, so that `make demo` and `make test` work on a fresh
# machine that has nothing but Swift. Safe to run again and again.
set -euo pipefail

packages=(
  libzstd-dev liblz4-dev   # compression for the storage engine's tables
  libpcre2-dev             # the $regex query operator
  libstemmer-dev           # Snowball stemmers for full-text search
  libedit-dev              # line editing and history in the `cairn shell`
  cmake pkg-config         # the C examples, the C conformance runner, install rules
  libcjson-dev             # JSON parsing for the C conformance runner only
  golang-go                # the Go binding (standard library only)
  binutils                 # nm, for the export-list check
  libnats-dev nats-server  # replication through NATS JetStream (tools/replicate), and its test
)
# The peers of `make bench`, installed only by `install-deps.sh --bench`,
# and dict-gcide: the dictionary whose entries are the full-text bench's
# corpus (bench/fts_bench.c reads /usr/share/dictd/gcide.*).
bench_packages=(librocksdb-dev libleveldb-dev liblmdb-dev libsqlite3-dev redis-server libhiredis-dev dict-gcide)
if [ "${1:-}" = "--bench" ]; then packages+=("${bench_packages[@]}"); fi

# The Python binding's tests run in a venv; Debian's own python3 needs
# python3-venv for that (a pyenv or python.org build has it built in).
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then packages+=(python3-venv); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing missing packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
