#!/usr/bin/env python3
"""Peer for `yimeng admit`: the PyPI `matching` package (HospitalResident, resident-optimal
deferred acceptance) on the general seats of an instance (quotas are not modelled by it).

Schools rank the candidates who list them by total, tie-break columns, then the published
lottery number, as `yimeng admit` does. Writes admissions.csv in the same format (pool
`general`). Usage: admit_matching.py candidates.csv schools.csv OUT.csv [--seed N]
"""
import csv
import sys
import time

from admit_sd import hundredths, lottery


def main(argv):
    seed = 0
    if "--seed" in argv:
        k = argv.index("--seed")
        seed = int(argv[k + 1])
        argv = argv[:k] + argv[k + 2:]
    cand_path, school_path, out_path = argv
    from matching.games import HospitalResident

    t0 = time.perf_counter()
    with open(school_path, encoding="utf-8-sig", newline="") as f:
        r = csv.reader(f)
        next(r)
        caps = {row[0]: int(row[1]) for row in r}
    with open(cand_path, encoding="utf-8-sig", newline="") as f:
        r = csv.reader(f)
        head = next(r)
        first = head.index("choice_1")
        ids, keys, prefs = [], {}, {}
        for n, row in enumerate(r):
            ids.append(row[0])
            tb = tuple(-hundredths(v) for v in row[3:first])
            keys[row[0]] = (-hundredths(row[2]),) + tb + (lottery(seed, row[0]), n)
            prefs[row[0]] = [c for c in row[first:] if c]
    applicants = {s: [] for s in caps}
    for cid, p in prefs.items():
        for s in p:
            applicants[s].append(cid)
    hospital_prefs = {s: sorted(a, key=keys.__getitem__) for s, a in applicants.items()}
    resident_prefs = {cid: p for cid, p in prefs.items() if p}
    t1 = time.perf_counter()
    game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, caps)
    matching = game.solve(optimal="resident")
    t2 = time.perf_counter()
    placed = {}
    for h, residents in matching.items():
        for res in residents:
            placed[res.name] = h.name
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["candidate_id", "school_code", "pool"])
        for cid in ids:
            s = placed.get(cid)
            w.writerow([cid, s, "general"] if s else [cid, "", ""])
    print(
        f"matching (HospitalResident): build {t1 - t0:.2f} s, create+solve {t2 - t1:.2f} s, "
        f"placed {len(placed)} of {len(ids)}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
