#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for tests.
#   deploy/local/postgres.sh start DIR   install PostgreSQL from Debian's packages if missing (root),
#                                        initdb into DIR, start on a free port, create the database;
#                                        DIR/url holds the SQLAlchemy URL
#   deploy/local/postgres.sh stop DIR    stop it
#   deploy/local/postgres.sh restart DIR stop it (fast: open connections are cut) and start it again
set -euo pipefail
action=${1:?start|stop}
dir=${2:?state directory}

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# PostgreSQL refuses to run as root; root runs it as the 'postgres' user.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

install() {
  [ -n "$(bindir)" ] && return
  [ "$(id -u)" = 0 ] || { echo "postgres: not installed, and installing needs root" >&2; exit 1; }
  echo "postgres: installing PostgreSQL from Debian's packages" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

start() {
  install
  local bin port
  bin=$(bindir)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$dir"
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U omniroute -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null \
    || { tail -n 40 "$dir/postgres.log" >&2; exit 1; }
  as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U omniroute omniroute_test
  echo "$bin" > "$dir/bin"
  echo "postgresql+asyncpg://omniroute@127.0.0.1:$port/omniroute_test" > "$dir/url"
  echo "postgres: PostgreSQL ready on 127.0.0.1:$port" >&2
}

restart() {
  as_owner "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -m fast -w -t 60 restart >/dev/null
}

stop() {
  [ -f "$dir/bin" ] || return 0
  as_owner "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

"$action"
