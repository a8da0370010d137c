#!/usr/bin/env bash
# Programs from Debian that the tests or benchmarks drive for real. Each is checked by command
# (or, for an absolute path, by that file: nginx's stream module is a file, not a command);
# a missing one is installed when we are root with apt-get, otherwise named with the command
# that installs it. Package names are Debian 12's.
set -euo pipefail
purpose="${1:-test}"
# command-or-file:package
case "$purpose" in
  # curl and python3: the README walkthrough (test/readme.test.ts) runs them as a reader would.
  # chromium: the web console's tests drive it with playwright-core (which downloads no browser).
  # postgresql: throwaway clusters (initdb, pg_ctl) in temp dirs, and psql (packages/test-kit).
  # ip and sysctl: the edge hand-over test's own network namespace (net.ipv4.tcp_migrate_req);
  # python3 also binds the systemd notification socket the edge's sd_notify is tested against.
  test) need=(python3:python3 curl:curl iperf3:iperf3 haproxy:haproxy openssl:openssl chromium:chromium
      zsh:zsh fish:fish ip:iproute2 sysctl:procps
      /usr/lib/postgresql/15/bin/initdb:postgresql) ;;
  # gcc brings libasan and libubsan (scripts/test-asan.sh); python3 sends the urgent bytes.
  test:asan) need=(python3:python3 cc:gcc) ;;
  bench|bench:gate|bench:results)
    need=(python3:python3 iperf3:iperf3 iptables:iptables haproxy:haproxy cc:gcc
      nginx:nginx /usr/lib/nginx/modules/ngx_stream_module.so:libnginx-mod-stream socat:socat) ;;
  *) need=() ;;
esac
# A non-login root shell may lack the sbin directories, where iptables, haproxy and nginx live.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# promtool (test/observability-kit.test.ts checks deploy/'s alerting rules with it) comes from
# Debian's prometheus package, unpacked into .tools/bin rather than installed: installing the
# package would also start a Prometheus server on this machine.
ensure_promtool() {
  local tools
  tools="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/bin"
  [ -x "$tools/promtool" ] && return 0
  local tmp
  tmp="$(mktemp -d)"
  echo "sluice: unpacking promtool from Debian's prometheus package into .tools/bin" >&2
  if (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) ||
    { [ "$(id -u)" = 0 ] && apt-get update -qq >&2 && (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1); }; then
    dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/unpacked" && mkdir -p "$tools" &&
      install -m 0755 "$tmp/unpacked/usr/bin/promtool" "$tools/promtool"
  fi
  rm -rf "$tmp"
  [ -x "$tools/promtool" ] && return 0
  echo "sluice: promtool is missing; get it with: apt-get download prometheus && dpkg-deb -x prometheus_*.deb DIR, then copy DIR/usr/bin/promtool to .tools/bin/" >&2
  return 1
}
if [ "$purpose" = test ]; then ensure_promtool || exit 1; fi
missing=()
for entry in "${need[@]}"; do
  check="${entry%%:*}"
  if [ "${check#/}" != "$check" ]; then
    [ -e "$check" ] || missing+=("${entry#*:}")
  else
    command -v "$check" >/dev/null 2>&1 || missing+=("${entry#*:}")
  fi
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
