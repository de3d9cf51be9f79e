#!/usr/bin/env bash
# Indicator benchmark at full Linyi scale, side by side with DuckDB on the exported data:
#   yimeng indicators (every computed indicator for the city and all counties, from SQLite)
#   vs the same counts in DuckDB over the exported CSV files (scripts/indicators_duckdb.py),
# and a check that both give the same city values.
# Usage: scripts/bench-indicators.sh [scale] [rounds]   (defaults 1.0 and 5). Writes bench-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1.0}"
ROUNDS="${2:-5}"
OUT=bench-out/indicators
BIN=target/release/yimeng
DB="$OUT/city.db"
mkdir -p "$OUT"
cargo build --release --locked -q
python3 -c "import duckdb" 2>/dev/null || pip install -q duckdb

if [ ! -f "$DB" ]; then
  echo "== generating the demo city (scale $SCALE) into $DB"
  $BIN --database "$DB" demo --scale "$SCALE" | tail -n 1
fi
if [ ! -f "$OUT/students.csv" ]; then
  echo "== exporting the registry (the peer's input)"
  for t in schools classes students staff; do
    $BIN --database "$DB" export $t -o "$OUT/$t.csv" | tail -n 1
  done
fi
$BIN --database "$DB" indicators --json > "$OUT/yimeng.json" 2>/dev/null

echo "== yimeng: $ROUNDS recomputations in one process, three processes"
for i in 1 2 3; do
  $BIN --database "$DB" indicators --repeat "$ROUNDS" 2>&1 >/dev/null | tail -n 2
done
echo "== DuckDB: $ROUNDS computations over the loaded tables, and the check of the city values"
python3 scripts/indicators_duckdb.py "$OUT" --repeat "$ROUNDS" --check "$OUT/yimeng.json"
