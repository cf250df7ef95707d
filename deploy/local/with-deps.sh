#!/usr/bin/env bash
# Run a command with Apache Kafka and PostgreSQL for the tests, then stop them, even on failure.
#   deploy/local/with-deps.sh make check
# OMNIROUTE_TEST_KAFKA (host:port) and OMNIROUTE_TEST_DATABASE_URL (SQLAlchemy URL), when set,
# point at servers that already run; then nothing is started for that one.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
state=$(mktemp -d /tmp/omniroute-deps.XXXXXX)
chmod 755 "$state"

cleanup() {
  "$here/kafka.sh" stop "$state/kafka"
  "$here/postgres.sh" stop "$state/postgres"
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pids=()
[ -n "${OMNIROUTE_TEST_KAFKA:-}" ] || { "$here/kafka.sh" start "$state/kafka" & pids+=($!); }
[ -n "${OMNIROUTE_TEST_DATABASE_URL:-}" ] || { "$here/postgres.sh" start "$state/postgres" & pids+=($!); }
for pid in "${pids[@]}"; do
  wait "$pid" || { echo "with-deps: a test dependency did not start (see above)" >&2; exit 1; }
done
[ -n "${OMNIROUTE_TEST_KAFKA:-}" ] || export OMNIROUTE_TEST_KAFKA=$(cat "$state/kafka/bootstrap")
[ -n "${OMNIROUTE_TEST_DATABASE_URL:-}" ] || export OMNIROUTE_TEST_DATABASE_URL=$(cat "$state/postgres/url")
echo "with-deps: OMNIROUTE_TEST_KAFKA=$OMNIROUTE_TEST_KAFKA OMNIROUTE_TEST_DATABASE_URL=$OMNIROUTE_TEST_DATABASE_URL" >&2
"$@"
