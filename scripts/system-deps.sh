#!/usr/bin/env bash
# Debian packages that the tests or benchmarks drive for real. Installed when we are
# root with apt-get; otherwise named, with the command that installs them.
set -euo pipefail
purpose="${1:-test}"
case "$purpose" in
  test) pkgs=(iproute2 procps) ;;
  bench|bench:gate) pkgs=(iproute2 procps iperf3 iptables) ;;
  *) pkgs=() ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "sluice: installing Debian packages for $purpose: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || true
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 && exit 0
fi
echo "sluice: missing Debian packages for $purpose: ${missing[*]}" >&2
echo "sluice: install them with: sudo apt-get install -y ${missing[*]}" >&2
exit 1
