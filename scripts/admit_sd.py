#!/usr/bin/env python3
"""Plain-Python serial dictatorship (平行志愿) for the benchmark peer of `yimeng admit`.

Same rules as the engine's fast path for one batch: candidates sorted by total, then the
tie-break columns (higher first), then the lottery number (splitmix64 of the seed and the
candidate id, the published rule); each takes the first choice with an open pool, general seats
first, then the quota pool of their junior school when their total reaches its min_total.
Quota seats left empty revert to the school's general pool and the pass is run again until
every quota pool is full. Writes admissions.csv in the same format as `yimeng admit`.

Usage: admit_sd.py candidates.csv schools.csv [quotas.csv] OUT.csv [--seed N]
"""
import csv
import sys
import time

M64 = (1 << 64) - 1


def mix(x):
    z = (x + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def fnv1a(s):
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def lottery(seed, cid):
    return mix(seed ^ mix(fnv1a(cid) ^ 0))


def hundredths(v):
    i, _, f = v.partition(".")
    return int(i or 0) * 100 + int((f + "00")[:2])


def main(argv):
    seed = 0
    if "--seed" in argv:
        k = argv.index("--seed")
        seed = int(argv[k + 1])
        argv = argv[:k] + argv[k + 2:]
    if len(argv) == 3:
        cand_path, school_path, out_path = argv
        quota_path = None
    else:
        cand_path, school_path, quota_path, out_path = argv
    t0 = time.perf_counter()
    with open(school_path, encoding="utf-8-sig", newline="") as f:
        r = csv.reader(f)
        next(r)
        codes, cap = [], []
        for row in r:
            codes.append(row[0])
            cap.append(int(row[1]))
    sidx = {c: i for i, c in enumerate(codes)}
    ns = len(codes)
    with open(cand_path, encoding="utf-8-sig", newline="") as f:
        r = csv.reader(f)
        head = next(r)
        first = head.index("choice_1")
        ids, juniors, keys, choices = [], [], [], []
        for n, row in enumerate(r):
            ids.append(row[0])
            juniors.append(row[1])
            total = hundredths(row[2])
            tb = tuple(-hundredths(v) for v in row[3:first])
            keys.append((-total,) + tb + (lottery(seed, row[0]), n))
            choices.append([sidx[c] for c in row[first:] if c])
    totals = [-k[0] for k in keys]
    # quota pools: pool id = ns + k; lookup by (school, junior)
    qpool = {}
    qmin = []
    if quota_path:
        with open(quota_path, encoding="utf-8-sig", newline="") as f:
            r = csv.reader(f)
            next(r)
            for row in r:
                qpool[(sidx[row[0]], row[1])] = ns + len(qmin)
                cap.append(int(row[2]))
                qmin.append(hundredths(row[3]))
    order = sorted(range(len(ids)), key=keys.__getitem__)
    t1 = time.perf_counter()
    passes = 0
    while True:
        passes += 1
        admitted = [0] * len(cap)
        place = [-1] * len(ids)
        for c in order:
            j = juniors[c]
            t = totals[c]
            for s in choices[c]:
                if admitted[s] < cap[s]:
                    admitted[s] += 1
                    place[c] = s
                    break
                q = qpool.get((s, j))
                if q is not None and t >= qmin[q - ns] and admitted[q] < cap[q]:
                    admitted[q] += 1
                    place[c] = q
                    break
        reverted = False
        for (s, _), q in qpool.items():
            if admitted[q] < cap[q]:
                cap[s] += cap[q] - admitted[q]
                cap[q] = admitted[q]
                reverted = True
        if not reverted:
            break
    t2 = time.perf_counter()
    qschool = {q: s for (s, _), q in qpool.items()}
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["candidate_id", "school_code", "pool"])
        for c, p in enumerate(place):
            if p < 0:
                w.writerow([ids[c], "", ""])
            elif p < ns:
                w.writerow([ids[c], codes[p], "general"])
            else:
                w.writerow([ids[c], codes[qschool[p]], "quota"])
    t3 = time.perf_counter()
    print(
        f"admit_sd.py: read+sort {t1 - t0:.2f} s, matching {t2 - t1:.2f} s ({passes} passes), "
        f"write {t3 - t2:.2f} s, placed {sum(p >= 0 for p in place)} of {len(ids)}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
