#!/usr/bin/env bash
# The docker-compose topology as plain processes, for machines without Docker:
# redis-server, an S3 endpoint (MinIO when `minio` is installed, else moto_server), an OCR
# worker (queue ocr), a trainer (queue training) and beat. Settings come from the same
# deploy/scanscribe.env as compose; only the broker and S3 addresses point at 127.0.0.1.
#
#   deploy/stack.sh up | down | status        (make stack / make stack-down)
#
# Environment overrides (defaults in brackets): STACK_DIR [run/stack], STACK_REDIS_PORT
# [16379], STACK_S3_PORT [19000], STACK_S3 [auto|minio|moto], STACK_WORKER_CONCURRENCY [1],
# STACK_START_TIMEOUT_S [90], STACK_STOP_TIMEOUT_S [60]. SCANSCRIBE_* variables already set in
# the environment win over the env file (apart from the broker and S3 addresses).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STACK_DIR=${STACK_DIR:-$ROOT/run/stack}
ENV_FILE=${STACK_ENV_FILE:-$ROOT/deploy/scanscribe.env}
BIN=${STACK_BIN:-$ROOT/.venv/bin}
REDIS_PORT=${STACK_REDIS_PORT:-16379}
S3_PORT=${STACK_S3_PORT:-19000}
S3_KIND=${STACK_S3:-auto}
WORKER_CONCURRENCY=${STACK_WORKER_CONCURRENCY:-1}
# Workers import numpy and load the model: several seconds on a busy 2-core machine.
START_TIMEOUT_S=${STACK_START_TIMEOUT_S:-90}
# Warm shutdown lets a worker finish its running chunk before it exits.
STOP_TIMEOUT_S=${STACK_STOP_TIMEOUT_S:-60}
POLL_S=0.2

APP_SERVICES=(beat trainer worker)   # stopped first, while Redis and S3 are still up
INFRA_SERVICES=(s3 redis)

die() { echo "stack: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Live (non-zombie) processes in process group $1; kill -0 where /proc is missing.
group_alive() {
  local pgid=$1 f rest state pgrp
  if [[ ! -d /proc/self ]]; then kill -0 -- "-$pgid" 2>/dev/null; return; fi
  for f in /proc/[0-9]*/stat; do
    rest=$(cat "$f" 2>/dev/null) || continue
    rest=${rest##*) }            # after "pid (comm) ": state ppid pgrp ...
    read -r state _ pgrp _ <<<"$rest"
    [[ $pgrp == "$pgid" && $state != Z ]] && return 0
  done
  return 1
}

pid_of() { [[ -f $STACK_DIR/$1.pid ]] && cat "$STACK_DIR/$1.pid"; }

# Each service runs in its own session, so stopping its group also stops its children
# (Celery pool processes).
start() {
  local name=$1; shift
  setsid "$@" >"$STACK_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$STACK_DIR/$name.pid"
}

wait_until() {   # wait_until WHAT COMMAND...
  local what=$1; shift
  local deadline=$((SECONDS + START_TIMEOUT_S))
  until "$@"; do
    ((SECONDS < deadline)) || die "$what not ready after ${START_TIMEOUT_S}s (logs in $STACK_DIR)"
    sleep "$POLL_S"
  done
}

running() { local pid; pid=$(pid_of "$1") && group_alive "$pid"; }

celery_ready() {
  running "$1" || die "$1 exited: $(tail -20 "$STACK_DIR/$1.log")"
  grep -q " ready\." "$STACK_DIR/$1.log"
}

# Settings: the env file (Docker's KEY=VALUE format, no quote processing), the caller's
# environment winning; then the addresses of this stack's own Redis and S3.
load_env() {
  local line key
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    key=${line%%=*}
    [[ -n ${!key+set} ]] || export "$line"
  done <"$ENV_FILE"
  export SCANSCRIBE_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export SCANSCRIBE_S3_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
  export PYTHONUNBUFFERED=1
}

write_env() {   # run/stack/env: `set -a; . run/stack/env; set +a` to use the CLI
  local line key
  {
    echo "# Settings of the stack started $(date -u +%FT%TZ); source with: set -a; . $1; set +a"
    while IFS= read -r line || [[ -n $line ]]; do
      [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
      key=${line%%=*}
      printf '%s=%q\n' "$key" "${!key}"
    done <"$ENV_FILE"
    printf '%s=%q\n' SCANSCRIBE_BROKER_URL "$SCANSCRIBE_BROKER_URL"
    printf '%s=%q\n' SCANSCRIBE_S3_ENDPOINT_URL "$SCANSCRIBE_S3_ENDPOINT_URL"
  } >"$1"
}

create_buckets() {
  "$BIN/python" - <<'EOF'
import os, time
import boto3
from botocore.config import Config

s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["SCANSCRIBE_S3_ENDPOINT_URL"],
    region_name=os.environ.get("SCANSCRIBE_S3_REGION", "us-east-1"),
    config=Config(s3={"addressing_style": "path"}),
)
deadline = time.monotonic() + float(os.environ["START_TIMEOUT_S"])
for bucket in filter(None, os.environ.get("STACK_BUCKETS", "").split(",")):
    while True:
        try:
            s3.head_bucket(Bucket=bucket)
            break
        except Exception:
            try:
                s3.create_bucket(Bucket=bucket)
                print(f"created bucket {bucket}")
                break
            except Exception as e:  # the endpoint is still starting
                if time.monotonic() > deadline:
                    raise SystemExit(f"stack: cannot create bucket {bucket}: {e}")
                time.sleep(0.5)
EOF
}

up() {
  local name
  for name in "${APP_SERVICES[@]}" "${INFRA_SERVICES[@]}"; do
    running "$name" && die "already running ($name, pids in $STACK_DIR): make stack-down first"
  done
  for port in "$REDIS_PORT" "$S3_PORT"; do
    port_open "$port" && die "port $port is in use: set STACK_REDIS_PORT / STACK_S3_PORT"
  done
  command -v redis-server >/dev/null || die "redis-server not found (make redis installs it)"
  [[ -x $BIN/scanscribe ]] || die "$BIN/scanscribe not found (make install)"
  mkdir -p "$STACK_DIR/redis"
  STACK_DIR=$(cd "$STACK_DIR" && pwd)
  load_env

  start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STACK_DIR/redis" \
    --appendonly yes --save ""
  if [[ $S3_KIND == minio || ($S3_KIND == auto && -n $(command -v minio)) ]]; then
    S3_KIND=minio
    mkdir -p "$STACK_DIR/minio"
    start s3 minio server "$STACK_DIR/minio" --address "127.0.0.1:$S3_PORT" \
      --console-address "127.0.0.1:$((S3_PORT + 1))"
  else
    S3_KIND=moto
    [[ -x $BIN/moto_server ]] || die "neither minio nor $BIN/moto_server found (make install)"
    start s3 "$BIN/moto_server" -H 127.0.0.1 -p "$S3_PORT"
  fi
  wait_until redis-server port_open "$REDIS_PORT"
  wait_until "S3 ($S3_KIND)" port_open "$S3_PORT"
  START_TIMEOUT_S=$START_TIMEOUT_S create_buckets

  # Started from STACK_DIR so no stray .env in the caller's folder changes the settings.
  cd "$STACK_DIR"
  start worker "$BIN/scanscribe" worker --queues ocr --concurrency "$WORKER_CONCURRENCY" \
    --hostname "ocr@%h"
  start trainer "$BIN/scanscribe" worker --queues training --concurrency 1 \
    --hostname "training@%h"
  start beat "$BIN/scanscribe" beat --schedule-file "$STACK_DIR/celerybeat-schedule"
  wait_until worker celery_ready worker
  wait_until trainer celery_ready trainer
  running beat || die "beat exited: $(tail -20 "$STACK_DIR/beat.log")"
  write_env "$STACK_DIR/env"

  cat <<EOF
stack up: redis 127.0.0.1:$REDIS_PORT, S3 ($S3_KIND) http://127.0.0.1:$S3_PORT, buckets $STACK_BUCKETS,
          worker (ocr@$(hostname), queue ocr), trainer (training@$(hostname)), beat
$( [[ $S3_KIND == moto ]] && echo "          moto keeps objects in memory: they are gone after make stack-down" )
logs and pids in $STACK_DIR; settings in $STACK_DIR/env. Use it from this shell with:

  set -a; . $STACK_DIR/env; set +a
  aws --endpoint-url \$SCANSCRIBE_S3_ENDPOINT_URL s3 cp --recursive MY_SCANS/ s3://scans/in/
  scanscribe submit s3://scans/in/ --out s3://scans/out/ --wait
  aws --endpoint-url \$SCANSCRIBE_S3_ENDPOINT_URL s3 ls s3://scans/out/
  make stack-down
EOF
}

stop_services() {   # TERM every group, wait, KILL what is left
  local name pid deadline left
  for name in "$@"; do
    pid=$(pid_of "$name") || continue
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  while :; do
    left=()
    for name in "$@"; do
      pid=$(pid_of "$name") || continue
      group_alive "$pid" && left+=("$name")
    done
    ((${#left[@]} == 0)) && break
    if ((SECONDS >= deadline)); then
      echo "stack: ${left[*]} still running after ${STOP_TIMEOUT_S}s: kill -9" >&2
      for name in "${left[@]}"; do kill -KILL -- "-$(pid_of "$name")" 2>/dev/null || true; done
      sleep 1
      break
    fi
    sleep "$POLL_S"
  done
  for name in "$@"; do
    pid=$(pid_of "$name") || continue
    group_alive "$pid" && die "$name (process group $pid) survived kill -9"
    rm -f "$STACK_DIR/$name.pid"
  done
}

down() {
  [[ -d $STACK_DIR ]] || { echo "stack: nothing to stop ($STACK_DIR absent)"; return; }
  stop_services "${APP_SERVICES[@]}"
  stop_services "${INFRA_SERVICES[@]}"
  rm -f "$STACK_DIR/env"
  echo "stack stopped (logs kept in $STACK_DIR)"
}

status() {
  local name pid
  for name in "${INFRA_SERVICES[@]}" "${APP_SERVICES[@]}"; do
    if running "$name"; then pid=$(pid_of "$name"); echo "$name: running (pid $pid)"
    else echo "$name: stopped"; fi
  done
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 up|down|status" ;;
esac
