#!/usr/bin/env bash
# Admission benchmark (平行志愿): a synthetic Linyi of N candidates × up to 12 choices (考生号 =
# 2-digit year + GB/T 2260 county code 371302… + category + serial), 600 senior schools,
# 2,000 junior schools, quota pools on 30% of the schools; side by side on the same instance:
#   yimeng admit (parse, validate, match, write)  vs  scripts/admit_sd.py (plain Python serial
#   dictatorship with the same quota rules; outputs must be byte-identical)
# and, on small general-seat instances, the PyPI `matching` package (HospitalResident): the largest
# size it solves within 60 s, and yimeng's time on that same instance (outputs must be equal).
# Usage: scripts/bench-admit.sh [candidates]   (default 1000000). Writes into bench-out/admit/
# (git-ignored). Needs python3; `pip install matching` for the third peer (skipped without it).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
OUT=bench-out/admit
BIN="${CARGO_TARGET_DIR:-target}/release/yimeng"
mkdir -p "$OUT"
cargo build --release --locked -q -p yimeng
TIME=(/usr/bin/time -f "%e s wall, %M KB max RSS")

# Input in the Linyi layout (16-digit 考生号 sharing a 10-digit prefix per county and category).
DIR="$OUT/linyi-n$N"
if [ ! -f "$DIR/candidates.csv" ]; then
  echo "== generating $N candidates (yimeng admit-gen)"
  "${TIME[@]}" $BIN admit-gen --candidates "$N" --schools 600 --juniors 2000 --choices 12 \
    --quota-schools 30 --seed 2020 --out "$DIR"
fi
echo "candidates.csv: $(du -h "$DIR/candidates.csv" | cut -f1), quotas.csv: $(($(wc -l < "$DIR/quotas.csv") - 1)) pools"

echo "== yimeng admit (release)"
rm -rf "$DIR/out"
"${TIME[@]}" $BIN admit --candidates "$DIR/candidates.csv" --schools "$DIR/schools.csv" \
  --quotas "$DIR/quotas.csv" --out "$DIR/out"

echo "== peer: scripts/admit_sd.py (plain Python serial dictatorship, same quota rules)"
"${TIME[@]}" python3 scripts/admit_sd.py "$DIR/candidates.csv" "$DIR/schools.csv" "$DIR/quotas.csv" "$DIR/sd.csv"
if cmp -s "$DIR/out/admissions.csv" "$DIR/sd.csv"; then
  echo "admissions.csv: identical to the Python serial dictatorship"
else
  echo "admissions.csv: DIFFERS from the Python serial dictatorship" >&2
  exit 1
fi

if python3 -c "import matching" 2>/dev/null; then
  echo "== peer: PyPI matching (HospitalResident), general seats only, 60 schools, 60 s limit"
  best=""
  for n in 2000 4000 6000 8000 10000 12000 14000 16000; do
    d="$OUT/linyi-hr$n"
    [ -f "$d/candidates.csv" ] || $BIN admit-gen --candidates $n --schools 60 --juniors 200 --seed 7 --out "$d" >/dev/null
    start=$(date +%s.%N)
    if (cd scripts && timeout 60 python3 admit_matching.py "../$d/candidates.csv" "../$d/schools.csv" "../$d/m.csv"); then
      end=$(date +%s.%N)
      echo "  n=$n: $(echo "$end - $start" | bc) s"
      best=$n
    else
      echo "  n=$n: not finished in 60 s"
      break
    fi
  done
  if [ -n "$best" ]; then
    d="$OUT/linyi-hr$best"
    echo "== yimeng admit on the largest instance matching finished (n=$best, general seats only)"
    "${TIME[@]}" $BIN admit --candidates "$d/candidates.csv" --schools "$d/schools.csv" --out "$d/out"
    if cmp -s "$d/out/admissions.csv" "$d/m.csv"; then
      echo "admissions.csv: identical to matching's HospitalResident"
    else
      echo "admissions.csv: DIFFERS from matching's HospitalResident" >&2
      exit 1
    fi
  fi
else
  echo "(PyPI matching not installed: pip install matching)"
fi
