#!/usr/bin/env bash
# Import benchmark at full Linyi scale, side by side with the databases' own bulk loaders:
#   yimeng import students (all checks, keys, history, audit)  vs  sqlite3 .import / psql \copy
#   of the same CSV into a bare table with no checks.
# Usage: scripts/bench-import.sh [scale]   (default 1.0). Writes into bench-out/ (git-ignored).
# PostgreSQL part runs when 127.0.0.1:5432 answers (user postgres, trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1.0}"
OUT=bench-out/import
BIN=target/release/yimeng
mkdir -p "$OUT"
cargo build --release --locked -q
TIME=(/usr/bin/time -f "%e s wall, %M KB max RSS")

if [ ! -f "$OUT/files/students.csv" ]; then
  echo "== generating demo files (scale $SCALE)"
  rm -rf "$OUT/files"
  "${TIME[@]}" $BIN --database "$OUT/gen.db" demo --scale "$SCALE" --files "$OUT/files" --no-load
fi
ROWS=$(($(wc -l < "$OUT/files/students.csv") - 1))
echo "students.csv: $ROWS rows, $(du -h "$OUT/files/students.csv" | cut -f1)"

echo "== SQLite: base registry (schools, staff, classes)"
rm -f "$OUT/base.db"*
for t in schools staff classes; do
  "${TIME[@]}" $BIN --database "$OUT/base.db" import $t "$OUT/files/$t.csv" | tail -n 2
done

echo "== SQLite: yimeng import students (fresh)"
cp "$OUT/base.db" "$OUT/run.db"
"${TIME[@]}" $BIN --database "$OUT/run.db" import students "$OUT/files/students.csv" | tail -n 2
echo "== SQLite: yimeng import students again (every row unchanged)"
"${TIME[@]}" $BIN --database "$OUT/run.db" import students "$OUT/files/students.csv" | tail -n 2

echo "== SQLite peer: sqlite3 .import into a bare table"
rm -f "$OUT/bare.db"
HEADER=$(head -n1 "$OUT/files/students.csv" | sed 's/^\xEF\xBB\xBF//')
COLS=$(echo "$HEADER" | awk -F, '{for(i=1;i<=NF;i++) printf "%sc%d TEXT", (i>1?", ":""), i}')
sqlite3 "$OUT/bare.db" "PRAGMA journal_mode=WAL; CREATE TABLE s ($COLS);" >/dev/null
"${TIME[@]}" sqlite3 "$OUT/bare.db" -cmd ".mode csv" ".import --skip 1 $OUT/files/students.csv s"

if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  PG=postgres://postgres@127.0.0.1:5432
  echo "== PostgreSQL: base registry"
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS yimeng_bench WITH (FORCE)" -c "CREATE DATABASE yimeng_bench"
  for t in schools staff classes; do
    $BIN --database "$PG/yimeng_bench" import $t "$OUT/files/$t.csv" | tail -n 1
  done
  echo "== PostgreSQL: yimeng import students (fresh)"
  "${TIME[@]}" $BIN --database "$PG/yimeng_bench" import students "$OUT/files/students.csv" | tail -n 2
  echo "== PostgreSQL peer: psql \\copy into a bare table"
  psql -q "$PG/yimeng_bench" -c "DROP TABLE IF EXISTS bare_students" -c "CREATE TABLE bare_students ($COLS)"
  "${TIME[@]}" psql -q "$PG/yimeng_bench" -c "\\copy bare_students FROM '$OUT/files/students.csv' WITH (FORMAT csv, HEADER true)"
  psql -q "$PG/postgres" -c "DROP DATABASE yimeng_bench WITH (FORCE)"
fi
