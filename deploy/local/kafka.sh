#!/usr/bin/env bash
# A throwaway single-node Apache Kafka (KRaft) on 127.0.0.1 for tests.
#   deploy/local/kafka.sh start DIR   fetch the broker's jars from Maven Central on first use
#                                     (cached in .cache/), format DIR, start the broker on a
#                                     free port, wait until it answers; DIR/bootstrap holds host:port
#   deploy/local/kafka.sh stop DIR    stop it
#   deploy/local/kafka.sh restart DIR stop it and start it again on the same port and data
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
action=${1:?start|stop}
dir=${2:?state directory}
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
libs="$root/.cache/kafka-$version/libs"
cp="$libs/*"
java_opts=(-Xms256m -Xmx768m "-Dlog4j2.configurationFile=$dir/log4j2.properties")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

fetch() {
  [ -f "$libs/kafka_2.13-$version.jar" ] && return
  echo "kafka: fetching Apache Kafka $version jars from Maven Central (first run only)" >&2
  mkdir -p "$libs.tmp"
  mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs.tmp" >&2
  rm -rf "$libs" && mv "$libs.tmp" "$libs"
}

start() {
  command -v java >/dev/null || { echo "kafka: java not found (JDK 17 is needed)" >&2; exit 1; }
  fetch
  mkdir -p "$dir"
  local port controller
  port=$(free_port); controller=$(free_port)
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  cat > "$dir/log4j2.properties" <<'LOG'
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
LOG
  java "${java_opts[@]}" -cp "$cp" kafka.tools.StorageTool format --ignore-formatted \
    -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid)" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
    || { cat "$dir/format.log" >&2; exit 1; }
  echo "127.0.0.1:$port" > "$dir/bootstrap"
  launch
}

launch() {
  local port
  port=$(cut -d: -f2 "$dir/bootstrap")
  nohup java "${java_opts[@]}" -cp "$cp" kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 &
  echo $! > "$dir/pid"
  for _ in $(seq 1 120); do
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "kafka: the broker exited during start:" >&2; tail -n 40 "$dir/kafka.log" >&2; exit 1
    fi
    if python3 "$here/wait_kafka.py" "127.0.0.1:$port" 2>/dev/null; then
      echo "kafka: Apache Kafka $version ready on 127.0.0.1:$port" >&2
      return
    fi
    sleep 0.5
  done
  echo "kafka: the broker did not answer within 60 s:" >&2; tail -n 40 "$dir/kafka.log" >&2; exit 1
}

restart() {
  stop
  launch
}

stop() {
  [ -f "$dir/pid" ] || return 0
  local pid; pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
}

"$action"
