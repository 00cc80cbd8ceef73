#!/usr/bin/env bash
# Installs Debian's influxdb (1.6.7), the InfluxDB peer of `make bench-ts`,
# when influxd is missing, the way scripts/install-deps.sh installs the other
# peers (apt-get, sudo only when not root). The package's postinst would
# start the system service; the bench never uses it (ts_bench_influx.py runs
# its own influxd on loopback with a config of its own), so while apt-get
# runs a policy-rc.d that denies every start is put in place when the machine
# has none. Safe to run again and again.
set -euo pipefail

if command -v influxd >/dev/null 2>&1; then exit 0; fi
if dpkg-query -W -f='${Status}' influxdb 2>/dev/null | grep -q "install ok installed"; then exit 0; fi

echo "installing missing package: influxdb (the InfluxDB peer of the time-series bench)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  # 101: "action forbidden by policy", honoured by invoke-rc.d and deb-systemd-invoke.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends influxdb >/dev/null
