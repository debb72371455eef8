# shellcheck shell=bash
# Sourced by .ci/run. `hotpath_versitygw_start` builds versitygw (the Apache-2.0 S3 gateway the
# S3 blob tests run against, posix backend) into a cache directory when it is not there yet,
# starts one on a temporary directory and a free port with root credentials from the
# environment, exports what the tests read, and stops it and removes its data when the calling
# shell exits:
#   HOTPATH_TEST_S3_ENDPOINT, HOTPATH_TEST_S3_ACCESS_KEY, HOTPATH_TEST_S3_SECRET_KEY  the shared gateway
#   HOTPATH_VERSITYGW  the binary, for tests that start (and stop) a gateway of their own
# HOTPATH_TEST_S3_ACCESS_KEY / HOTPATH_TEST_S3_SECRET_KEY may be set beforehand; else they are made up.

HOTPATH_VERSITYGW_VERSION=v1.8.0

hotpath_versitygw_start() {
  local cache="${HOTPATH_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hotpath-ci}/versitygw-$HOTPATH_VERSITYGW_VERSION"
  local bin="$cache/versitygw"
  if [ ! -x "$bin" ]; then
    echo "building versitygw $HOTPATH_VERSITYGW_VERSION into $cache" >&2
    mkdir -p "$cache"
    GOBIN="$cache" go install "github.com/versity/versitygw/cmd/versitygw@$HOTPATH_VERSITYGW_VERSION"
  fi

  HOTPATH_VERSITYGW_DIR="$(mktemp -d "${TMPDIR:-/tmp}/hotpath-ci-versitygw.XXXXXX")"
  mkdir "$HOTPATH_VERSITYGW_DIR/data"
  export HOTPATH_TEST_S3_ACCESS_KEY="${HOTPATH_TEST_S3_ACCESS_KEY:-hotpathci}"
  if [ -z "${HOTPATH_TEST_S3_SECRET_KEY:-}" ]; then
    HOTPATH_TEST_S3_SECRET_KEY="$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')"
  fi
  export HOTPATH_TEST_S3_SECRET_KEY

  # A port the kernel hands out and is free now; retried when the gateway loses it to a race.
  local port attempt
  for attempt in 1 2 3; do
    port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
    # Credentials through the environment, not arguments that any process can read.
    ROOT_ACCESS_KEY_ID="$HOTPATH_TEST_S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$HOTPATH_TEST_S3_SECRET_KEY" \
      "$bin" --quiet --keep-alive --port "127.0.0.1:$port" posix "$HOTPATH_VERSITYGW_DIR/data" >"$HOTPATH_VERSITYGW_DIR/log" 2>&1 &
    HOTPATH_VERSITYGW_PID=$!
    if hotpath_versitygw_wait "$port"; then break; fi
    hotpath_versitygw_kill
    if [ "$attempt" = 3 ]; then
      echo "versitygw did not start; its log:" >&2
      cat "$HOTPATH_VERSITYGW_DIR/log" >&2
      rm -rf "$HOTPATH_VERSITYGW_DIR"
      return 1
    fi
  done

  export HOTPATH_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
  export HOTPATH_VERSITYGW="$bin"
  hotpath_versitygw_on_exit hotpath_versitygw_stop
  echo "versitygw $HOTPATH_VERSITYGW_VERSION listens on $HOTPATH_TEST_S3_ENDPOINT (data in $HOTPATH_VERSITYGW_DIR/data)" >&2
}

# Waits up to 30 s for the gateway to accept connections on port $1; fails at once if it exited.
hotpath_versitygw_wait() {
  local i
  for i in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$HOTPATH_VERSITYGW_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

hotpath_versitygw_kill() {
  if [ -n "${HOTPATH_VERSITYGW_PID:-}" ]; then
    kill "$HOTPATH_VERSITYGW_PID" 2>/dev/null || true
    wait "$HOTPATH_VERSITYGW_PID" 2>/dev/null || true
    HOTPATH_VERSITYGW_PID=
  fi
}

hotpath_versitygw_stop() {
  hotpath_versitygw_kill
  if [ -n "${HOTPATH_VERSITYGW_DIR:-}" ]; then rm -rf "$HOTPATH_VERSITYGW_DIR"; fi
}

# Adds command $1 to the EXIT trap, after whatever other blocks of .ci/run put there.
hotpath_versitygw_on_exit() {
  local existing
  existing="$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\\1/")"
  # shellcheck disable=SC2064
  trap -- "${existing:+$existing; }$1" EXIT
}
