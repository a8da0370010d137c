#!/bin/sh
# Installs the sluice release this file was unpacked with, on a systemd host (docs/install.md).
#
#   ./install.sh [--dry-run] install edge|server   this release, a system user, config, units
#   ./install.sh [--dry-run] upgrade               this release becomes current; running services
#                                                  move to it (the edge by a hand-over)
#   ./install.sh [--dry-run] uninstall [--purge]   --purge also removes config, state and the user
#   ./install.sh status
#
# Every change is printed as it is made (`+ ...`); --dry-run prints them and makes none. Running
# it again changes nothing that is already in place, and never overwrites an operator's config.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
VERSION=$(cat "$HERE/VERSION")
OPT=/opt/sluice
ETC=/etc/sluice
STATE=/var/lib/sluice
UNIT_DIR=/etc/systemd/system
SYSCTL_FILE=/etc/sysctl.d/60-sluice.conf
SYSUSERS_FILE=/etc/sysusers.d/sluice.conf
LINK_DIR=/usr/local/bin
BINARIES="sluice-edge sluice-server sluicectl"
DRY=0

say() { printf 'sluice install: %s\n' "$*"; }
die() {
  printf 'sluice install: %s\n' "$*" >&2
  exit 1
}
usage() {
  sed -n '4,8s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

# Every change goes through run: printed, then made unless --dry-run.
run() {
  printf '+ %s\n' "$*"
  [ "$DRY" = 1 ] || "$@"
}

# write_file PATH MODE [GROUP]: the content comes on stdin; an identical file is left alone.
write_file() {
  content=$(cat)
  if [ -f "$1" ] && [ "$(cat "$1")" = "$content" ]; then
    printf '= %s (unchanged)\n' "$1"
    return
  fi
  printf '+ write %s (mode %s%s)\n' "$1" "$2" "${3:+, group $3}"
  [ "$DRY" = 1 ] && return
  mkdir -p "$(dirname "$1")"
  printf '%s\n' "$content" >"$1.sluice-new"
  chmod "$2" "$1.sluice-new"
  if [ -n "${3:-}" ]; then chgrp "$3" "$1.sluice-new"; fi
  mv -f "$1.sluice-new" "$1"
}

# write_new PATH MODE [GROUP]: like write_file, but an existing file is the operator's and is kept.
write_new() {
  if [ -e "$1" ]; then
    cat >/dev/null
    printf '= %s (kept: it exists)\n' "$1"
    return
  fi
  write_file "$1" "$2" "${3:-}"
}

systemd_running() { [ -d /run/systemd/system ]; }

need_root() {
  [ "$DRY" = 1 ] || [ "$(id -u)" = 0 ] ||
    die "it writes $OPT, /etc and creates a user: run it as root (--dry-run shows what it would do)"
}

# The release goes to /opt/sluice/VERSION and `current` points at it; the link is replaced in one
# rename, so a process starting at that moment sees the old version or the new, never neither.
install_release() {
  dest="$OPT/$VERSION"
  if [ "$HERE" = "$dest" ]; then
    printf '= %s (running from it)\n' "$dest"
  elif [ -d "$dest" ] && diff -rq "$HERE" "$dest" >/dev/null 2>&1; then
    printf '= %s (unchanged)\n' "$dest"
  else
    run mkdir -p "$OPT"
    run rm -rf "$dest.sluice-new"
    run cp -a "$HERE" "$dest.sluice-new"
    run rm -rf "$dest"
    run mv "$dest.sluice-new" "$dest"
  fi
  if [ "$(readlink "$OPT/current" 2>/dev/null || true)" = "$VERSION" ]; then
    printf '= %s -> %s (unchanged)\n' "$OPT/current" "$VERSION"
  else
    run ln -sfn "$VERSION" "$OPT/current.sluice-new"
    run mv -T "$OPT/current.sluice-new" "$OPT/current"
  fi
  for binary in $BINARIES; do
    if [ "$(readlink "$LINK_DIR/$binary" 2>/dev/null || true)" = "$OPT/current/bin/$binary" ]; then
      printf '= %s (unchanged)\n' "$LINK_DIR/$binary"
    else
      run ln -sfn "$OPT/current/bin/$binary" "$LINK_DIR/$binary"
    fi
  done
}

install_user() {
  write_file "$SYSUSERS_FILE" 0644 <<EOF
# The user sluice's services run as (install.sh).
u sluice - "sluice L4 forwarder" $STATE /usr/sbin/nologin
EOF
  run systemd-sysusers "$SYSUSERS_FILE"
}

# A hand-over lets the listener that closes pass the connections still in its accept queue to the
# one that stays (Linux 5.14+); without it they are reset.
install_sysctl() {
  write_file "$SYSCTL_FILE" 0644 <<EOF
# sluice: connections queued on a closing SO_REUSEPORT listener move to its successor (hand-over).
net.ipv4.tcp_migrate_req = 1
EOF
  run sysctl -q -p "$SYSCTL_FILE"
}

install_units() {
  for unit in "$HERE"/systemd/*.service; do
    write_file "$UNIT_DIR/$(basename "$unit")" 0644 <"$unit"
  done
  if systemd_running; then run systemctl daemon-reload; fi
}

install_edge_config() {
  write_new "$ETC/edge.toml" 0640 sluice <<EOF
# A standalone edge (docs/config.md). Add [[rules]] tables, then: systemctl restart sluice-edge
name = "$(hostname)"
metrics = "127.0.0.1:9464"
drain_timeout_secs = 30
rules = []
EOF
  write_new "$ETC/edge.env" 0640 sluice <<EOF
# sluice-edge's arguments (sluice-edge --help). A managed edge, after
#   runuser -u sluice -- $OPT/current/bin/sluice-edge enroll 'sluice://...' --bundle $STATE/edge/edge.bundle
# runs with: SLUICE_EDGE_ARGS=--bundle $STATE/edge/edge.bundle --metrics 127.0.0.1:9464
SLUICE_EDGE_ARGS=--config $ETC/edge.toml
EOF
}

install_server_config() {
  write_new "$ETC/server.env" 0640 sluice <<EOF
# sluice-server serve's arguments (sluice-server serve --help), e.g. --store postgres://... or
# --advertise HOST:7443 for the enrollment URIs edges are given.
SLUICE_SERVER_ARGS=--data-dir $STATE/server
EOF
}

cmd_install() {
  role=${1:-}
  case "$role" in
    edge | server) ;;
    *) usage ;;
  esac
  need_root
  install_release
  install_user
  run install -d -m 0750 -o root -g sluice "$ETC"
  run install -d -m 0750 -o sluice -g sluice "$STATE"
  run install -d -m 0700 -o sluice -g sluice "$STATE/$role"
  "install_${role}_config"
  if [ "$role" = edge ]; then install_sysctl; fi
  install_units
  run systemctl enable "sluice-$role.service"
  if systemd_running; then
    say "installed sluice-$role $VERSION; start it with: systemctl start sluice-$role"
  else
    say "installed sluice-$role $VERSION; systemd is not running here, so nothing was started"
  fi
}

installed_roles() {
  for role in edge server; do
    if [ -f "$UNIT_DIR/sluice-$role.service" ]; then printf '%s\n' "$role"; fi
  done
}

cmd_upgrade() {
  need_root
  roles=$(installed_roles)
  [ -n "$roles" ] || die "no sluice unit in $UNIT_DIR: nothing to upgrade (use: install edge|server)"
  previous=$(readlink "$OPT/current" 2>/dev/null || true)
  install_release
  install_units
  for role in $roles; do
    if [ "$role" = edge ]; then install_sysctl; fi
    if systemd_running && systemctl -q is-active "sluice-$role.service"; then
      # The edge hands over to a process of the new version with no connection dropped; the
      # server restarts, and its edges reconnect on their own.
      if [ "$role" = edge ]; then run systemctl reload sluice-edge.service; else run systemctl restart sluice-server.service; fi
    fi
  done
  # The version before this one stays for a rollback; any older one goes.
  for dir in "$OPT"/*/; do
    version=$(basename "$dir")
    case "$version" in
      current | "$VERSION" | "$previous") ;;
      *) run rm -rf "$OPT/$version" ;;
    esac
  done
  say "upgraded to $VERSION (from ${previous:-nothing}); roll back with $OPT/$previous/install.sh upgrade"
}

cmd_uninstall() {
  purge=0
  if [ "${1:-}" = --purge ]; then purge=1; fi
  need_root
  for role in $(installed_roles); do
    if systemd_running; then run systemctl disable --now "sluice-$role.service"; else run systemctl disable "sluice-$role.service"; fi
    run rm -f "$UNIT_DIR/sluice-$role.service"
  done
  if systemd_running; then run systemctl daemon-reload; fi
  for binary in $BINARIES; do
    if [ -L "$LINK_DIR/$binary" ]; then run rm -f "$LINK_DIR/$binary"; fi
  done
  if [ -e "$SYSCTL_FILE" ]; then run rm -f "$SYSCTL_FILE"; fi
  if [ -e "$OPT" ]; then run rm -rf "$OPT"; fi
  if [ "$purge" = 1 ]; then
    run rm -rf "$ETC" "$STATE" "$SYSUSERS_FILE"
    if id sluice >/dev/null 2>&1; then run userdel sluice; fi
    say "removed sluice, its config, its state and its user"
  else
    say "removed sluice; kept $ETC, $STATE and the user sluice (--purge removes them)"
  fi
}

cmd_status() {
  if [ -L "$OPT/current" ]; then
    say "current: $(readlink "$OPT/current"); installed: $(find "$OPT" -mindepth 1 -maxdepth 1 -type d -printf '%f ')"
  else
    say "not installed (no $OPT/current); this release is $VERSION"
  fi
  if id sluice >/dev/null 2>&1; then say "user: sluice"; else say "user: none"; fi
  for role in edge server; do
    unit="sluice-$role.service"
    if [ ! -f "$UNIT_DIR/$unit" ]; then
      say "$unit: not installed"
    elif systemd_running; then
      say "$unit: $(systemctl is-enabled "$unit" 2>/dev/null || true), $(systemctl is-active "$unit" 2>/dev/null || true)"
    else
      say "$unit: installed (systemd is not running here)"
    fi
  done
  say "net.ipv4.tcp_migrate_req = $(cat /proc/sys/net/ipv4/tcp_migrate_req 2>/dev/null || echo unknown)"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    -h | --help) usage ;;
    -*) die "unknown option $1 (see ./install.sh --help)" ;;
    *) break ;;
  esac
  shift
done
[ $# -gt 0 ] || usage
command=$1
shift
case "$command" in
  install) cmd_install "$@" ;;
  upgrade) cmd_upgrade ;;
  uninstall) cmd_uninstall "$@" ;;
  status) cmd_status ;;
  *) die "unknown command $command (see ./install.sh --help)" ;;
esac
