#!/usr/bin/env bash
# Web benchmark at full Linyi scale on SQLite: wrk with 64 connections for 30 s on loopback against
# the school page, a class roster and a student search of a county user, and the server's memory.
# Usage: scripts/bench-web.sh [scale]   (default 1.0). Needs wrk (apt install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1.0}"
OUT=bench-out/web
BIN=target/release/yimeng
ADDR=127.0.0.1:18090
mkdir -p "$OUT"
cargo build --release --locked -q
if [ ! -f "$OUT/web.db" ]; then
  echo "== creating the demo city (scale $SCALE)"
  /usr/bin/time -f "%e s wall, %M KB max RSS" $BIN --database "$OUT/web.db" demo --scale "$SCALE" | tail -n 3
fi
$BIN --database "$OUT/web.db" serve --addr $ADDR > "$OUT/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://$ADDR/healthz" >/dev/null && break; sleep 0.2; done
echo "server RSS after start: $(ps -o rss= -p $PID) KB"

JAR="$OUT/jar"; rm -f "$JAR"
TOKEN=$(curl -s -c "$JAR" -b "$JAR" "http://$ADDR/login" | grep -o 'name="_csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//;s/"$//')
curl -s -c "$JAR" -b "$JAR" -o /dev/null -d "username=lanshan&password=Linyi2020&_csrf=$TOKEN" "http://$ADDR/login"
SESSION=$(awk '$6=="ym_session"{print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "login failed"; exit 1; }

# The largest school of 兰山区, its largest class, and a common surname.
SCHOOL=$(sqlite3 "$OUT/web.db" "SELECT school_id FROM student WHERE county_id=371302 GROUP BY school_id ORDER BY COUNT(*) DESC LIMIT 1")
CLASS=$(sqlite3 "$OUT/web.db" "SELECT class_id FROM student WHERE county_id=371302 AND school_id=$SCHOOL GROUP BY class_id ORDER BY COUNT(*) DESC LIMIT 1")
NAME=$(sqlite3 "$OUT/web.db" "SELECT name FROM student WHERE county_id=371302 AND id=(SELECT MIN(id)+777 FROM student WHERE county_id=371302)")
Q=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))" "$NAME")
for path in "/schools/$SCHOOL" "/classes/$CLASS" "/search?q=$Q" "/students?school=$SCHOOL&q=$Q"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ym_session=$SESSION" "http://$ADDR$path")
  echo "== GET $path ($code)"
  wrk -t2 -c64 -d30s --latency -H "Cookie: ym_session=$SESSION" "http://$ADDR$path" | grep -E "Latency|50%|90%|99%|Requests/sec|Non-2xx"
  echo "server RSS: $(ps -o rss= -p $PID) KB"
done
