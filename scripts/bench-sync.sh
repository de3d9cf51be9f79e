#!/usr/bin/env bash
# SQLite durability cost: a full-scale students import (the demo city's files, as
# scripts/bench-import.sh makes them) into the same base registry, once with the default
# synchronous=FULL and once with [store] sqlite_synchronous = "normal". ONE run each, back to back.
# Usage: scripts/bench-sync.sh [scale]   (default 1.0). Writes into bench-out/sync/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1.0}"
OUT=bench-out/sync
BIN=${BIN:-target/release/yimeng}
mkdir -p "$OUT"
[ -x "$BIN" ] || cargo build --release --locked -q
if [ ! -f "$OUT/files/students.csv" ]; then
  "$BIN" --database "$OUT/gen.db" demo --scale "$SCALE" --files "$OUT/files" --no-load >/dev/null
fi
echo "students.csv: $(($(wc -l < "$OUT/files/students.csv") - 1)) rows"
rm -f "$OUT/base.db"*
for t in schools staff classes; do
  "$BIN" --database "$OUT/base.db" import $t "$OUT/files/$t.csv" | tail -n 1
done
printf '[store]\nsqlite_synchronous = "normal"\n' > "$OUT/normal.toml"
printf '[store]\nsqlite_synchronous = "full"\n' > "$OUT/full.toml"
for mode in full normal; do
  rm -f "$OUT/run.db"*
  cp "$OUT/base.db" "$OUT/run.db"
  echo "== synchronous=$mode (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS" \
    "$BIN" --config "$OUT/$mode.toml" --database "$OUT/run.db" import students "$OUT/files/students.csv" --as-is 2>&1 \
    | grep -v '^第' | tail -n 2
done
