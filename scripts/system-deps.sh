#!/usr/bin/env bash
# Programs from Debian that the tests or benchmarks drive for real. Each is checked by command;
# a missing one is installed when we are root with apt-get, otherwise named with the command
# that installs it.
set -euo pipefail
purpose="${1:-test}"
# command:package
case "$purpose" in
  test) need=(python3:python3 iperf3:iperf3) ;;
  bench|bench:gate) need=(python3:python3 iperf3:iperf3 iptables:iptables haproxy:haproxy cc:gcc) ;;
  *) need=() ;;
esac
missing=()
for entry in "${need[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "sluice: installing Debian packages for $purpose: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || echo "sluice: apt-get update failed; trying the install anyway" >&2
  if apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then exit 0; fi
fi
echo "sluice: missing Debian packages for $purpose: ${missing[*]}" >&2
echo "sluice: install them with: sudo apt-get install -y ${missing[*]}" >&2
exit 1
