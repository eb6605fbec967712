#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests that need one (CI and local runs).
#
#   eval "$(.ci/postgres.sh start)"      # prints the exports below; installs PostgreSQL if missing
#   cargo test ...                       # the PostgreSQL tests run against it
#   .ci/postgres.sh stop "$OSB_TEST_POSTGRES_DIR"
#
# `start` creates a cluster in a new temporary directory (as the unprivileged `postgres`
# user, or a created `osbtest` user, when run as root: initdb refuses root), starts it on a
# free loopback port with trust authentication and prints:
#   OSB_TEST_POSTGRES_URL      postgres://osb@127.0.0.1:PORT/postgres (a superuser)
#   OSB_TEST_POSTGRES_DIR      the cluster's directory (for stop and restart)
#   OSB_TEST_POSTGRES_RESTART  a command that restarts the server (the outage test runs it)
#   OSB_REQUIRE_POSTGRES=1     the PostgreSQL tests fail instead of skipping without it
# `restart DIR` restarts that cluster (pg_ctl restart -m fast); `stop DIR` stops it and
# removes DIR.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then
      echo "$d"
      return
    fi
  done
  return 1
}

install_postgres() {
  if [ "$(id -u)" != 0 ]; then
    log "initdb not found and not root: install PostgreSQL (Debian: apt-get install postgresql)"
    exit 1
  fi
  log "installing Debian's postgresql package"
  # No service is started: only the binaries are used.
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
}

# Runs a command as the cluster's owner.
as_owner() {
  local owner=$1
  shift
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

owner_of() { stat -c %U "$1/data"; }

start() {
  local bindir
  bindir=$(find_bindir) || { install_postgres; bindir=$(find_bindir); }
  local owner
  owner=$(id -un)
  if [ "$(id -u)" = 0 ]; then
    if id postgres >/dev/null 2>&1; then
      owner=postgres
    else
      id osbtest >/dev/null 2>&1 || useradd --system --no-create-home osbtest
      owner=osbtest
    fi
  fi
  local dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/osb-postgres.XXXXXX")
  chmod 755 "$dir"
  mkdir "$dir/data"
  chown "$owner" "$dir" "$dir/data"
  as_owner "$owner" "$bindir/initdb" -D "$dir/data" -U osb --auth=trust --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  local port=${OSB_TEST_POSTGRES_PORT:-54320}
  while (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
  done
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 400
shared_buffers = 32MB
CONF
  as_owner "$owner" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "$bindir" >"$dir/bindir"
  log "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir (owner $owner)"
  local self
  self=$(readlink -f "$0")
  echo "export OSB_TEST_POSTGRES_URL='postgres://osb@127.0.0.1:$port/postgres'"
  echo "export OSB_TEST_POSTGRES_DIR='$dir'"
  echo "export OSB_TEST_POSTGRES_RESTART='bash $self restart $dir'"
  echo "export OSB_REQUIRE_POSTGRES=1"
}

restart() {
  local dir=$1
  as_owner "$(owner_of "$dir")" "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast restart >&2
}

stop() {
  local dir=$1
  [ -d "$dir/data" ] || return 0
  as_owner "$(owner_of "$dir")" "$(cat "$dir/bindir")/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  restart) restart "${2:?usage: postgres.sh restart DIR}" ;;
  stop) stop "${2:?usage: postgres.sh stop DIR}" ;;
  *)
    echo "usage: $0 start | restart DIR | stop DIR" >&2
    exit 2
    ;;
esac
