#!/usr/bin/env python3
"""Write loop of scripts/soak: while wrk reads, files 学籍异动 requests and transfers through the
API and imports students (API upload and CLI in turn), one operation after another, until the
time is up. Every call is one JSON line in the log: route template, status, milliseconds, and
whether the status was the expected one. Exit status 1 when any call was unexpected.

Usage: soak_writes.py BASE DB BIN SECONDS LOG TOKENS_JSON
TOKENS_JSON: {"county": …, "county2": …, "school": …, "school2": …} API tokens of the 兰山区
bureau, the 罗庄区 bureau, a 兰山区 primary school and a 罗庄区 primary school.
"""

import csv
import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BASE, DB, BIN, SECONDS, LOG, TOKENS = sys.argv[1:7]
SECONDS = float(SECONDS)
TIMEOUT = float(os.environ.get("SOAK_WRITE_TIMEOUT", "300"))
TOKENS = json.loads(TOKENS)
log = open(LOG, "w", encoding="utf-8")
unexpected = 0


def record(route, status, ms, expected, note=""):
    global unexpected
    ok = status in expected
    if not ok:
        unexpected += 1
    log.write(json.dumps({"route": route, "status": status, "ms": round(ms, 2), "ok": ok,
                          "note": note[:300]}, ensure_ascii=False) + "\n")
    log.flush()
    return ok


def call(method, path, route, token, body=None, expected=(200,), files=None):
    """One API call; returns (status, parsed JSON or None)."""
    headers = {"Authorization": "Bearer " + token}
    data = None
    if files is not None:
        boundary = "soak%016x" % random.getrandbits(64)
        name, content = files
        data = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n"
        ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    except (TimeoutError, urllib.error.URLError, ConnectionError) as e:
        # No answer in time (or the connection failed): an error, and the loop goes on.
        status, text = 0, str(e).encode()
    ms = (time.perf_counter() - t0) * 1000
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    record(route, status, ms, expected, "" if status in expected else text.decode("utf-8", "replace"))
    return status, parsed


# Students to work on, read from the store (a read-only connection beside the server).
ro = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=60)


def school_of(token_key):
    return ro.execute(
        "SELECT county_id, school_id FROM app_user WHERE username = ?", (USERS[token_key],)
    ).fetchone()


USERS = json.loads(os.environ["SOAK_USERS"])
county1, school1 = school_of("school")
county2, school2 = school_of("school2")
# Compulsory-stage students on the register (在读) of the 兰山区 school, with an ID number.
pool = [
    r
    for r in ro.execute(
        "SELECT id, student_no, id_card FROM student WHERE county_id = ? AND school_id = ? "
        "AND status = '01' AND id_card IS NOT NULL ORDER BY id",
        (county1, school1),
    )
]
random.Random(2020).shuffle(pool)
half = len(pool) // 2
status_pool, transfer_pool = pool[:half], pool[half:]
# The import file: the students of another 兰山区 school, exported by the CLI (a read).
other = ro.execute(
    "SELECT s.code FROM school s WHERE s.county_id = ? AND s.id <> ? AND s.school_type <> 'kindergarten' "
    "AND EXISTS (SELECT 1 FROM student t WHERE t.county_id = s.county_id AND t.school_id = s.id) "
    "ORDER BY s.id LIMIT 1",
    (county1, school1),
).fetchone()[0]
ro.close()
tmp = tempfile.mkdtemp(prefix="soak-")
export = os.path.join(tmp, "export.csv")
subprocess.run([BIN, "--database", DB, "export", "students", "--school", other, "-o", export],
               check=True, stdout=subprocess.DEVNULL)
with open(export, encoding="utf-8-sig", newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
phone = next(i for i, h in enumerate(header) if "电话" in h)
print(f"write loop: {len(status_pool)} students for status requests, {len(transfer_pool)} for "
      f"transfers, import file of school {other}: {len(body)} students", flush=True)


def import_file(k):
    """The school's students with the first guardian's phone of every tenth row changed."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for i, r in enumerate(body):
        r = list(r)
        if i % 10 == k % 10:
            r[phone] = "139%08d" % ((k * 7919 + i) % 100_000_000)
        w.writerow(r)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def county_and_id(v):
    """The (county, id) of the request in an answer: the first object with both keys."""
    if isinstance(v, dict):
        c = v.get("county_id", v.get("county"))
        if isinstance(c, int) and isinstance(v.get("id"), int):
            return c, v["id"]
        for x in v.values():
            r = county_and_id(x)
            if r:
                return r
    return None


def status_cycle(k):
    if k >= len(status_pool):
        return
    sid = status_pool[k][0]
    for to in ("休学", "复学"):
        st, r = call("POST", f"/api/v1/students/{sid}/status", "POST /api/v1/students/{id}/status",
                     TOKENS["school"], {"status": to, "reason": "压力测试：病休"}, expected=(202,))
        if st != 202:
            return
        county, rid = county_and_id(r)
        call("POST", f"/api/v1/status-requests/{county}/{rid}/decide",
             "POST /api/v1/status-requests/{county}/{id}/decide", TOKENS["county"],
             {"decision": "approve"})
    # An expected refusal: a school cannot approve a request that waits for the county, and the
    # request is no longer open anyway (403 or 409).
    call("POST", f"/api/v1/status-requests/{county}/{rid}/decide",
         "POST /api/v1/status-requests/{county}/{id}/decide (refused)", TOKENS["school"],
         {"decision": "approve"}, expected=(403, 404, 409))


def transfer_cycle(k):
    if k >= len(transfer_pool):
        return
    _, student_no, id_card = transfer_pool[k]
    st, r = call("POST", "/api/v1/transfers", "POST /api/v1/transfers", TOKENS["school2"],
                 {"student_no": student_no, "id_card": id_card, "reason": "压力测试：随父母工作调动"})
    if st != 200:
        return
    county, tid = county_and_id(r)
    # Cross-county: receiving county, sending school, sending county.
    for who in ("county2", "school", "county"):
        st, _ = call("POST", f"/api/v1/transfers/{county}/{tid}/decide",
                     "POST /api/v1/transfers/{county}/{id}/decide", TOKENS[who],
                     {"decision": "approve"})
        if st != 200:
            return


def import_cycle(k):
    data = import_file(k)
    if k % 2 == 0:
        call("POST", "/api/v1/imports/students", "POST /api/v1/imports/students", TOKENS["county"],
             files=("students.csv", data))
    else:
        path = os.path.join(tmp, "import.csv")
        with open(path, "wb") as f:
            f.write(data)
        t0 = time.perf_counter()
        p = subprocess.run([BIN, "--database", DB, "import", "students", path, "--county", "兰山区"],
                           capture_output=True, text=True)
        record("CLI yimeng import students", 200 if p.returncode == 0 else 500,
               (time.perf_counter() - t0) * 1000, (200,), p.stderr[-300:])


end = time.monotonic() + SECONDS
k = 0
while time.monotonic() < end:
    status_cycle(k)
    if time.monotonic() >= end:
        break
    transfer_cycle(k)
    if time.monotonic() >= end:
        break
    if k % 3 == 0:
        import_cycle(k // 3)
    k += 1
log.close()
print(f"write loop: {k} cycles, {unexpected} unexpected statuses", flush=True)
sys.exit(1 if unexpected else 0)
