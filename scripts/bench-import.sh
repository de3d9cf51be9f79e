#!/usr/bin/env bash
# Import benchmark at full Linyi scale, side by side with the databases' own bulk loaders:
#   yimeng import students (all checks, keys, history, audit)  vs  sqlite3 .import of the same CSV
#   into a bare table with no checks; on PostgreSQL vs psql \copy of the same rows into the same
#   tables with their keys, indexes and the national key table (see the PostgreSQL part).
# Usage: scripts/bench-import.sh [scale] [all|import|sqlite|pg|export]   (default 1.0 all;
# import = sqlite + pg). Writes into
# bench-out/ (git-ignored). `export` reuses the database the import part left in bench-out/import.
# Export: yimeng export students (CSV, then xlsx) vs sqlite3 -csv of the same columns (the same
# joins for school code and class) from the same database.
# PostgreSQL part runs when 127.0.0.1:5432 answers (user postgres, trust auth).
# Students are imported with --as-is, as a bureau loads its existing registry the first time: the
# demo city holds 大班额 classes on purpose (the plan measures them), and the class-size gate would
# refuse the 3,047 rows that fill them beyond 55 as new placements. Every other check runs, and
# every row is written. yimeng and its peer run back to back; the ratio is printed per run.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1.0}"
PART="${2:-all}"
OUT=bench-out/import
mkdir -p "$OUT"
# BIN=path/to/yimeng runs a binary built elsewhere (then nothing is built here).
if [ -z "${BIN:-}" ]; then
  BIN="${CARGO_TARGET_DIR:-target}/release/yimeng"
  cargo build --release --locked -q -p yimeng
fi
TIME=(/usr/bin/time -f "%e s wall, %M KB max RSS")
# Runs a command, prints its time, leaves the wall seconds in $WALL.
timed() {
  local log; log=$(mktemp)
  # (a refused row is one line on stderr: 3,047 of them here, left out)
  /usr/bin/time -o "$log" -f "%e s wall, %U s user, %S s sys, %M KB max RSS" "$@" 2>&1 | grep -v '^第' | tail -n 2 || true
  cat "$log"; WALL=$(cut -d' ' -f1 "$log" | tail -n 1); rm -f "$log"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "ratio yimeng/peer: %.2f (%s s / %s s)\n", a / b, a, b }'; }
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$PART" != export ]; then

if [ ! -f "$OUT/files/students.csv" ]; then
  echo "== generating demo files (scale $SCALE)"
  rm -rf "$OUT/files"
  "${TIME[@]}" $BIN --database "$OUT/gen.db" demo --scale "$SCALE" --files "$OUT/files" --no-load
fi
ROWS=$(($(wc -l < "$OUT/files/students.csv") - 1))
echo "students.csv: $ROWS rows, $(du -h "$OUT/files/students.csv" | cut -f1)"

if [ "$PART" != pg ]; then
echo "== SQLite: base registry (schools, staff, classes)"
rm -f "$OUT/base.db"*
for t in schools staff classes; do
  "${TIME[@]}" $BIN --database "$OUT/base.db" import $t "$OUT/files/$t.csv" | tail -n 2
done

HEADER=$(head -n1 "$OUT/files/students.csv" | sed 's/^\xEF\xBB\xBF//')
COLS=$(echo "$HEADER" | awk -F, '{for(i=1;i<=NF;i++) printf "%sc%d TEXT", (i>1?", ":""), i}')
for run in $(seq 1 "${RUNS:-1}"); do
  echo "== SQLite run $run (load: $(cut -d' ' -f1-3 /proc/loadavg)): yimeng import students (fresh)"
  rm -f "$OUT/run.db"*
  cp "$OUT/base.db" "$OUT/run.db"
  timed $BIN --database "$OUT/run.db" import students "$OUT/files/students.csv" --as-is; Y=$WALL
  echo "== SQLite peer: sqlite3 .import into a bare table"
  rm -f "$OUT/bare.db"*
  sqlite3 "$OUT/bare.db" "PRAGMA journal_mode=WAL; CREATE TABLE s ($COLS);" >/dev/null
  timed sqlite3 "$OUT/bare.db" -cmd ".mode csv" ".import --skip 1 $OUT/files/students.csv s"; P=$WALL
  ratio "$Y" "$P"
done
echo "== SQLite: yimeng import students again (every row unchanged)"
timed $BIN --database "$OUT/run.db" import students "$OUT/files/students.csv" --as-is
fi

if [ "$PART" != sqlite ] && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  PG=postgres://postgres@127.0.0.1:5432
  # The peer does the same writes with the database's own loader: `psql \copy` of the rows the
  # import wrote (student, and the students' ID-number and 学籍号 keys in person_key) into the
  # same tables of a database holding the same base registry, with every key, index and foreign
  # key in place, in one transaction. It does no reading of the file, no checks, no hashing.
  # The rows are taken from yimeng's own result (copied out once, untimed), so both load exactly
  # the same data; the row counts are compared afterwards.
  echo "== PostgreSQL: base registry"
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS yimeng_bench WITH (FORCE)" -c "CREATE DATABASE yimeng_bench"
  for t in schools staff classes; do
    $BIN --database "$PG/yimeng_bench" import $t "$OUT/files/$t.csv" | tail -n 1
  done
  pg_dump -Fc "$PG/yimeng_bench" > "$OUT/pg-base.dump"
  fresh() {
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
    pg_restore -d "$PG/$1" "$OUT/pg-base.dump"
  }
  counts() {
    psql -Atq "$PG/$1" -c "SELECT (SELECT COUNT(*) FROM student) || ' students, ' || (SELECT COUNT(*) FROM person_key) || ' keys, ' || (SELECT COUNT(*) FROM student_event) || ' events'"
  }
  for run in $(seq 1 "${RUNS:-1}"); do
    [ "$run" -gt 1 ] && fresh yimeng_bench
    echo "== PostgreSQL run $run (load: $(cut -d' ' -f1-3 /proc/loadavg)): yimeng import students (fresh)"
    timed $BIN --database "$PG/yimeng_bench" import students "$OUT/files/students.csv" --as-is; Y=$WALL
    if [ ! -f "$OUT/pg-student.copy" ]; then
      psql -q "$PG/yimeng_bench" -c "\\copy student TO '$OUT/pg-student.copy'" \
        -c "\\copy (SELECT * FROM person_key WHERE owner = 'student') TO '$OUT/pg-person_key.copy'" \
        -c "\\copy (SELECT * FROM student_event) TO '$OUT/pg-student_event.copy'"
      echo "rows the import wrote: $(wc -l < "$OUT/pg-student.copy") students, $(wc -l < "$OUT/pg-person_key.copy") keys, $(wc -l < "$OUT/pg-student_event.copy") events ($(du -ch "$OUT"/pg-*.copy | tail -n1 | cut -f1) of COPY text)"
    fi
    fresh yimeng_peer
    echo "== PostgreSQL peer: psql \\copy into student, person_key and student_event (keys, indexes and foreign keys in place, one transaction)"
    timed psql -q -1 -v ON_ERROR_STOP=1 "$PG/yimeng_peer" \
      -c "\\copy student FROM '$OUT/pg-student.copy'" \
      -c "\\copy person_key FROM '$OUT/pg-person_key.copy'" \
      -c "\\copy student_event FROM '$OUT/pg-student_event.copy'"; P=$WALL
    ratio "$Y" "$P"
    echo "after yimeng: $(counts yimeng_bench); after the peer: $(counts yimeng_peer)"
    echo "peer's ANALYZE of the two tables (yimeng's import includes its own): "
    timed psql -q "$PG/yimeng_peer" -c "ANALYZE student" -c "ANALYZE person_key"
  done
  psql -q "$PG/postgres" -c "DROP DATABASE yimeng_bench WITH (FORCE)" -c "DROP DATABASE yimeng_peer WITH (FORCE)"
fi
fi

if [ "$PART" = all ] || [ "$PART" = export ]; then
  DB="$OUT/run.db"
  [ -f "$DB" ] || { echo "$DB missing: run the import part first"; exit 1; }
  command -v sqlite3 >/dev/null || { echo "sqlite3 missing (apt-get install sqlite3)"; exit 1; }
  # The import format's columns, from the same tables, in the export's key order.
  PEER_SQL="SELECT s.code, c.school_year || '-' || (c.school_year + 1), c.grade, c.class_no, t.name,
    t.sex, t.birth_date, t.id_card, t.student_no, t.ethnicity, t.hukou_code, t.migrant,
    t.left_behind, t.disability, t.poor, t.orphan, t.guardian1_name, t.guardian1_relation,
    t.guardian1_phone, t.guardian2_name, t.guardian2_relation, t.guardian2_phone, t.status,
    t.entry_date
    FROM student t JOIN school s ON s.county_id = t.county_id AND s.id = t.school_id
    LEFT JOIN class c ON c.county_id = t.county_id AND c.id = t.class_id
    ORDER BY t.county_id, t.id"
  for run in $(seq 1 "${RUNS:-1}"); do
    echo "== SQLite export run $run (load: $(cut -d' ' -f1-3 /proc/loadavg)): yimeng export students (CSV)"
    rm -f "$OUT/export.csv" "$OUT/export.xlsx" "$OUT/peer.csv"
    timed $BIN --database "$DB" export students -o "$OUT/export.csv"; C=$WALL
    echo "== SQLite peer: sqlite3 -csv of the same columns"
    timed sh -c 'sqlite3 -csv -header "$1" "$2" > "$3"' sh "$DB" "$PEER_SQL" "$OUT/peer.csv"; P=$WALL
    ratio "$C" "$P"
    echo "rows: yimeng $(($(wc -l < "$OUT/export.csv") - 1)), sqlite3 $(($(wc -l < "$OUT/peer.csv") - 1))"
    echo "== yimeng export students (xlsx)"
    timed $BIN --database "$DB" export students -o "$OUT/export.xlsx"; X=$WALL
    awk -v a="$X" -v b="$C" 'BEGIN { printf "ratio xlsx/CSV: %.2f (%s s / %s s)\n", a / b, a, b }'
  done
fi
