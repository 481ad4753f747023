#!/usr/bin/env bash
# The services of a scaled-out store, for tests/scale: PostgreSQL, Redis and a Chroma server.
#
#   scripts/scale_services.sh start   install (apt, when missing) and start them; idempotent
#   scripts/scale_services.sh stop    stop what `start` started
#   scripts/scale_services.sh env     print the variables tests/scale reads
#   scripts/scale_services.sh run CMD...   start, run CMD with those variables, stop; CMD's exit status
#
# `start` writes $SCALE_DIR/env (default var/scale/env):
#   export SHOPASSIST_TEST_DATABASE_URL=postgresql+psycopg://shopassist:shopassist@127.0.0.1:5432/shopassist
#   export SHOPASSIST_TEST_CHROMA_URL=http://127.0.0.1:8790
#   export SHOPASSIST_TEST_REDIS_URL=redis://127.0.0.1:6390/0
# It needs root (apt-get, `su postgres`); without it, or when a service cannot start, it prints one
# line saying why and exits non-zero, so CI fails loudly. A developer without root skips with SCALE=0.
set -u
cd "$(dirname "$0")/.."
SELF="$PWD/scripts/scale_services.sh"

SCALE_DIR="${SCALE_DIR:-var/scale}"
case "$SCALE_DIR" in /*) ;; *) SCALE_DIR="$PWD/$SCALE_DIR" ;; esac
CHROMA="${CHROMA:-.venv/bin/chroma}"
CHROMA_PORT="${SCALE_CHROMA_PORT:-8790}"
REDIS_PORT="${SCALE_REDIS_PORT:-6390}"
PG_ROLE="shopassist"
PG_PASSWORD="shopassist"
PG_DB="shopassist"

die() {
  echo "error: scale services: $*" >&2
  exit 1
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "need root to install and start PostgreSQL/Redis (apt-get, su postgres); run as root, or skip the scale suite with SCALE=0"
}

apt_install() {  # apt_install PACKAGE... (only called when something is missing)
  command -v apt-get >/dev/null 2>&1 || die "$* missing and no apt-get to install it"
  echo "installing $* (apt-get)…"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null) \
    || die "apt-get install $* failed"
}

as_postgres() { su postgres -s /bin/sh -c "$1"; }

start_postgres() {
  command -v pg_ctlcluster >/dev/null 2>&1 && command -v psql >/dev/null 2>&1 || apt_install postgresql
  local line ver name port status
  line="$(pg_lsclusters -h 2>/dev/null | head -n 1)"
  if [ -z "$line" ]; then
    ver="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)"
    [ -n "$ver" ] || die "PostgreSQL is installed but no server version was found in /usr/lib/postgresql"
    pg_createcluster "$ver" main >/dev/null || die "pg_createcluster $ver main failed"
    line="$(pg_lsclusters -h | head -n 1)"
  fi
  read -r ver name port status _ <<<"$line"
  if [ "$status" != "online" ]; then
    pg_ctlcluster "$ver" "$name" start || die "pg_ctlcluster $ver $name start failed (see /var/log/postgresql/postgresql-$ver-$name.log)"
    echo "$ver $name" >"$SCALE_DIR/postgres.started"
  fi
  PG_PORT="$port"
  local i
  for i in $(seq 1 30); do
    as_postgres "psql -p $PG_PORT -tAc 'SELECT 1'" >/dev/null 2>&1 && break
    [ "$i" -eq 30 ] && die "PostgreSQL $ver/$name did not accept connections on port $PG_PORT"
    sleep 0.5
  done
  if [ "$(as_postgres "psql -p $PG_PORT -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$PG_ROLE'\"")" != "1" ]; then
    as_postgres "psql -p $PG_PORT -qc \"CREATE ROLE $PG_ROLE LOGIN PASSWORD '$PG_PASSWORD' CREATEDB\"" \
      || die "could not create the PostgreSQL role $PG_ROLE"
  fi
  if [ "$(as_postgres "psql -p $PG_PORT -tAc \"SELECT 1 FROM pg_database WHERE datname='$PG_DB'\"")" != "1" ]; then
    as_postgres "psql -p $PG_PORT -qc \"CREATE DATABASE $PG_DB OWNER $PG_ROLE\"" \
      || die "could not create the PostgreSQL database $PG_DB"
  fi
}

start_redis() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || apt_install redis-server
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
      --dir "$SCALE_DIR" --pidfile "$SCALE_DIR/redis.pid" --logfile "$SCALE_DIR/redis.log" \
      || die "redis-server did not start on port $REDIS_PORT (see $SCALE_DIR/redis.log)"
  fi
  local i
  for i in $(seq 1 30); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "redis-server does not answer on port $REDIS_PORT (see $SCALE_DIR/redis.log)"
}

chroma_up() { curl -fsS -m 2 "http://127.0.0.1:$CHROMA_PORT/api/v2/heartbeat" >/dev/null 2>&1; }

start_chroma() {
  [ -x "$CHROMA" ] || die "the chroma CLI is not at $CHROMA (make install)"
  if alive "$SCALE_DIR/chroma.pid" && chroma_up; then
    return 0
  fi
  chroma_up && die "port $CHROMA_PORT answers as a Chroma server this script did not start; set SCALE_CHROMA_PORT"
  rm -rf "$SCALE_DIR/chroma-data"
  mkdir -p "$SCALE_DIR/chroma-data"
  setsid nohup "$CHROMA" run --path "$SCALE_DIR/chroma-data" --host 127.0.0.1 --port "$CHROMA_PORT" \
    >"$SCALE_DIR/chroma.log" 2>&1 </dev/null &
  echo $! >"$SCALE_DIR/chroma.pid"
  local i
  for i in $(seq 1 120); do
    chroma_up && return 0
    alive "$SCALE_DIR/chroma.pid" || die "chroma run exited: $(tail -n 1 "$SCALE_DIR/chroma.log")"
    sleep 0.5
  done
  die "the Chroma server did not answer on port $CHROMA_PORT within 60 s (see $SCALE_DIR/chroma.log)"
}

write_env() {
  cat >"$SCALE_DIR/env" <<EOF
export SHOPASSIST_TEST_DATABASE_URL=postgresql+psycopg://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB
export SHOPASSIST_TEST_CHROMA_URL=http://127.0.0.1:$CHROMA_PORT
export SHOPASSIST_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
EOF
}

stop_all() {
  if alive "$SCALE_DIR/chroma.pid"; then
    local pid i
    pid="$(cat "$SCALE_DIR/chroma.pid")"
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 40); do  # wait for it to go (and free its port) before a new start
      kill -0 "$pid" 2>/dev/null || break
      [ "$i" -eq 40 ] && kill -KILL "$pid" 2>/dev/null
      sleep 0.25
    done
  fi
  rm -f "$SCALE_DIR/chroma.pid"
  if alive "$SCALE_DIR/redis.pid"; then
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill -TERM "$(cat "$SCALE_DIR/redis.pid")" 2>/dev/null
  fi
  rm -f "$SCALE_DIR/redis.pid"
  if [ -f "$SCALE_DIR/postgres.started" ]; then
    read -r ver name <"$SCALE_DIR/postgres.started"
    pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
    rm -f "$SCALE_DIR/postgres.started"
  fi
  rm -f "$SCALE_DIR/env"
}

case "${1:-}" in
  start)
    need_root
    mkdir -p "$SCALE_DIR"
    start_postgres
    start_redis
    start_chroma
    write_env
    echo "scale services up: PostgreSQL :$PG_PORT, Redis :$REDIS_PORT, Chroma :$CHROMA_PORT ($SCALE_DIR/env)"
    ;;
  stop)
    [ -d "$SCALE_DIR" ] && stop_all
    exit 0
    ;;
  run)
    shift
    [ "$#" -gt 0 ] || die "run needs a command"
    bash "$SELF" start || exit 1
    set -a
    # shellcheck disable=SC1091
    . "$SCALE_DIR/env"
    set +a
    "$@"
    rc=$?
    bash "$SELF" stop
    exit "$rc"
    ;;
  env)
    [ -f "$SCALE_DIR/env" ] || die "not started ($SCALE_DIR/env is missing): run scripts/scale_services.sh start"
    cat "$SCALE_DIR/env"
    ;;
  *)
    echo "usage: $0 start|stop|env|run CMD..." >&2
    exit 2
    ;;
esac
