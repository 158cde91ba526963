#!/usr/bin/env bash
# PgBouncer >= 1.21 (protocol-level prepared statements in transaction mode) for the
# integration test that runs the service through it. A no-op when one is installed.
# Debian 12 ships 1.18; then the source package of Debian's next release is built from
# the same mirror as the machine's own apt sources, installed under /usr/local.
set -euo pipefail
MIN=1.21
NEWER_SUITE="${PGBOUNCER_SUITE:-trixie}"

new_enough() {  # $1: a pgbouncer binary
  local v
  v="$("$1" --version 2>/dev/null | awk '/^PgBouncer/ {print $2; exit}')" || return 1
  [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$MIN" "$v" | sort -V | head -1)" = "$MIN" ]
}
for bin in "$(command -v pgbouncer || true)" /usr/local/bin/pgbouncer /usr/sbin/pgbouncer; do
  if [ -n "$bin" ] && [ -x "$bin" ] && new_enough "$bin"; then exit 0; fi
done

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
candidate="$(apt-cache policy pgbouncer | awk '/Candidate:/ {print $2}' | sed 's/-.*//')"
if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] \
   && [ "$(printf '%s\n%s\n' "$MIN" "$candidate" | sort -V | head -1)" = "$MIN" ]; then
  apt-get install -y -qq pgbouncer
  exit 0
fi

mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
if [ -z "$mirror" ]; then
  mirror="$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
fi
[ -n "$mirror" ] || { echo "no Debian mirror in the apt sources" >&2; exit 1; }
apt-get install -y -qq --no-upgrade build-essential pkg-config libevent-dev libssl-dev >/dev/null

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb-src $mirror $NEWER_SUITE main" > "$work/sources.list"
chmod -R a+rwX "$work"
apt_private=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=-
             -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
apt-get "${apt_private[@]}" update -qq
(cd "$work" && apt-get "${apt_private[@]}" source --download-only -qq pgbouncer)
tar -xzf "$work"/pgbouncer_*.orig.tar.gz -C "$work"
cd "$work"/pgbouncer-*/
./configure --prefix=/usr/local --without-cares --without-pam --without-systemd >/dev/null
make -j"$(nproc)" >/dev/null
make install >/dev/null
new_enough /usr/local/bin/pgbouncer
