#!/bin/sh
# Installs the peers of `npm run bench:peers` from Debian's packages: Dask distributed, Celery
# and its Redis client for Debian's /usr/bin/python3, and redis-server. Quick when they are
# there already, so the bench runs it every time.
set -eu
PY=/usr/bin/python3
PACKAGES="python3-distributed python3-celery python3-redis redis-server"
missing() {
  "$PY" -c 'import distributed' 2>/dev/null || echo python3-distributed
  "$PY" -c 'import celery' 2>/dev/null || echo python3-celery
  "$PY" -c 'import redis' 2>/dev/null || echo python3-redis
  command -v redis-server >/dev/null || echo redis-server
}
[ -z "$(missing)" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "peers missing ($(missing | xargs)); as root: apt-get install -y $PACKAGES" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A stale package list is the usual reason an install fails: refresh it once and retry.
# shellcheck disable=SC2086
apt-get install -y -q $PACKAGES >/dev/null 2>&1 ||
  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $PACKAGES >/dev/null 2>&1; } ||
  { echo "apt-get install -y $PACKAGES failed" >&2; exit 1; }
[ -z "$(missing)" ] || { echo "still missing after apt-get: $(missing | xargs) (redis-server on PATH, $PY imports)" >&2; exit 1; }
