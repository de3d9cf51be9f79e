#!/usr/bin/env python3
"""The plan's computed indicators in DuckDB over the exported registry files, as the peer of
`yimeng indicators` in the benchmark (scripts/bench-indicators.sh).

Reads schools.csv, classes.csv, students.csv and staff.csv as `yimeng export` writes them (Chinese
headers, UTF-8 with BOM), loads them into DuckDB tables (timed apart), then computes the same
counts per county with SQL and divides in Python (timed: this is the figure compared). Prints the
timings and, with --check FILE (the JSON of `yimeng indicators --json`), compares the city values.

Definitions as in yimeng-domain's plan indicators: the class-size counts take the classes of
普通中小学 only (特殊教育学校 left out); 新招聘教师数 counts every recruit of the plan year whatever
the status now; the 公费师范生 placed count those still in post.

Usage: indicators_duckdb.py DIR [--check yimeng.json] [--threads N] [--repeat N]
"""
import argparse
import json
import sys
import time

import duckdb

COUNTIES = {
    "兰山区": 371302, "罗庄区": 371311, "河东区": 371312, "沂南县": 371321, "郯城县": 371322,
    "沂水县": 371323, "兰陵县": 371324, "费县": 371325, "平邑县": 371326, "莒南县": 371327,
    "蒙阴县": 371328, "临沭县": 371329, "临沂高新技术产业开发区": 371371,
    "临沂经济技术开发区": 371372, "临沂临港经济开发区": 371373,
}
ZONES = {371371, 371372, 371373}
PRIMARY = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]
JUNIOR = ["七年级", "八年级", "九年级"]
SENIOR = ["高一", "高二", "高三"]
KG = ["小班", "中班", "大班", "混龄班"]


def sql_list(xs):
    return "(" + ", ".join("'" + x + "'" for x in xs) + ")"


COUNTS = f"""
WITH sc AS (
  SELECT s."学校标识码" AS code, m.county, s."学校类别" AS type, s."办学性质" AS own,
         s."普惠性" = '是' AS inclusive, s."城乡分类" AS loc, s."中心校" = '是' AS central,
         TRY_CAST(s."出口带宽(Mbps)" AS BIGINT) AS bw,
         s."专职保安" = '是' AS guard, s."封闭化管理" = '是' AS closed,
         s."一键式报警和视频监控" = '是' AS alarm, s."护学岗" = '是' AS post
  FROM schools s JOIN county_map m ON m.name = s."所属县区"
),
sizes AS (
  SELECT "学校标识码" AS code, "学年" AS y, "年级" AS g, "班号" AS n,
         count(*) FILTER (WHERE "学籍状态" IN ('在读', '复学')) AS size,
         count(*) FILTER (WHERE "学籍状态" IN ('在读', '休学', '复学')) AS roll
  FROM students WHERE "班号" <> '' GROUP BY ALL
),
cls AS (
  SELECT sc.county, sc.code, c."学年" AS y, c."年级" AS g, coalesce(z.size, 0) AS size,
         coalesce(z.roll, 0) AS roll, sc.own, sc.inclusive,
         sc.type <> '特殊教育学校' AS ordinary
  FROM classes c JOIN sc ON sc.code = c."学校标识码"
  LEFT JOIN sizes z ON z.code = c."学校标识码" AND z.y = c."学年" AND z.g = c."年级" AND z.n = c."班号"
),
latest AS (SELECT county, max(left(y, 4)) AS y FROM cls GROUP BY county),
cur AS (SELECT cls.* FROM cls JOIN latest USING (county) WHERE left(cls.y, 4) = latest.y),
k AS (
  SELECT county,
    count(*) FILTER (WHERE ordinary AND g IN {sql_list(PRIMARY + JUNIOR + SENIOR)}) AS classes,
    count(*) FILTER (WHERE ordinary AND g IN {sql_list(PRIMARY + JUNIOR + SENIOR)} AND size >= 56) AS big,
    count(*) FILTER (WHERE ordinary AND g IN {sql_list(PRIMARY + JUNIOR + SENIOR)} AND size >= 66) AS huge,
    count(*) FILTER (WHERE ordinary AND g IN ('一年级', '七年级', '高一')) AS starting,
    count(*) FILTER (WHERE ordinary AND g IN ('一年级', '七年级', '高一') AND size > 55) AS starting_over,
    count(*) FILTER (WHERE ordinary AND g IN {sql_list(PRIMARY + JUNIOR)}) AS standard,
    count(*) FILTER (WHERE ordinary AND ((g IN {sql_list(PRIMARY)} AND size > 45) OR (g IN {sql_list(JUNIOR)} AND size > 50))) AS over_standard,
    sum(roll) FILTER (WHERE g IN {sql_list(KG)}) AS kg,
    sum(roll) FILTER (WHERE g IN {sql_list(KG)} AND own = '公办') AS kg_public,
    sum(roll) FILTER (WHERE g IN {sql_list(KG)} AND (own = '公办' OR inclusive)) AS kg_inclusive,
    sum(roll) FILTER (WHERE g = '高一') AS senior1,
    sum(roll) FILTER (WHERE g = '中职一年级') AS voc1
  FROM cur GROUP BY county
),
st AS (
  SELECT sc.county,
    count(*) FILTER (WHERE t."岗位类别" = '专任教师' AND t."补充来源" IN ('公开招聘', '公费师范生', '特岗教师', '人才引进')) AS recruited,
    count(*) FILTER (WHERE t."补充来源" = '公费师范生' AND sc.loc IN ('镇区', '乡村')
                       AND t."任职状态" IN ('在岗', '长期病假', '借调')) AS rural_funded
  FROM staff t JOIN sc ON sc.code = t."学校标识码"
  WHERE t."入职日期" LIKE '2020-%'
  GROUP BY sc.county
),
s AS (
  SELECT county, count(*) AS schools, count(*) FILTER (WHERE guard) AS guard,
    count(*) FILTER (WHERE closed) AS closed, count(*) FILTER (WHERE alarm) AS alarm,
    count(*) FILTER (WHERE post) AS post,
    count(*) FILTER (WHERE guard AND closed AND alarm AND post) AS all_four,
    count(*) FILTER (WHERE type IN ('初级中学', '九年一贯制学校', '完全中学', '高级中学', '十二年一贯制学校') OR (type = '小学' AND central)) AS central,
    count(*) FILTER (WHERE (type IN ('初级中学', '九年一贯制学校', '完全中学', '高级中学', '十二年一贯制学校') OR (type = '小学' AND central)) AND bw >= 1000) AS gigabit,
    count(*) FILTER (WHERE type = '特殊教育学校') AS special
  FROM sc GROUP BY county
)
SELECT s.county, s.*, k.*, st.* FROM s LEFT JOIN k USING (county) LEFT JOIN st USING (county)
ORDER BY s.county
"""


def pct(n, d):
    return None if not d else n * 100.0 / d


def values(t, units=None, with_special=None):
    g = lambda k: t.get(k) or 0
    v = {
        "big_class_count": g("big"),
        "big_class_share": pct(g("big"), g("classes")),
        "huge_class_count": g("huge"),
        "huge_class_share": pct(g("huge"), g("classes")),
        "big_class_56_65_share": pct(g("big") - g("huge"), g("classes")),
        "start_grade_over_55": g("starting_over"),
        "over_standard_count": g("over_standard"),
        "over_standard_share": pct(g("over_standard"), g("standard")),
        "inclusive_kg_coverage": pct(g("kg_inclusive"), g("kg")),
        "public_kg_coverage": pct(g("kg_public"), g("kg")),
        "teachers_recruited": g("recruited"),
        "rural_funded_normal_placed": g("rural_funded"),
        "vocational_general_ratio": None if not g("senior1") else g("voc1") / g("senior1"),
        "gigabit_share": pct(g("gigabit"), g("central")),
        "safety_guard_share": pct(g("guard"), g("schools")),
        "closed_campus_share": pct(g("closed"), g("schools")),
        "alarm_video_share": pct(g("alarm"), g("schools")),
        "guard_post_share": pct(g("post"), g("schools")),
        "safety_all_four_share": pct(g("all_four"), g("schools")),
    }
    if units is not None:
        v["special_school_county_share"] = pct(with_special, units)
    return v


def compute(con):
    cur = con.execute(COUNTS)
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    city = {}
    for r in rows:
        for k, x in r.items():
            if k != "county" and isinstance(x, (int, float)):
                city[k] = city.get(k, 0) + x
    counted = [r for r in rows if r["county"] not in ZONES]
    out = {"371300": values(city, 12, sum(1 for r in counted if r["special"]))}
    for r in rows:
        out[str(r["county"])] = values(r)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--check")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    con = duckdb.connect()
    con.execute(f"SET threads TO {a.threads}")
    t0 = time.perf_counter()
    for t in ["schools", "classes", "students", "staff"]:
        con.execute(
            f"CREATE TABLE {t} AS SELECT * FROM read_csv('{a.dir}/{t}.csv', header = true, all_varchar = true)"
        )
    con.execute("CREATE TABLE county_map (name VARCHAR, county INTEGER)")
    con.executemany("INSERT INTO county_map VALUES (?, ?)", list(COUNTIES.items()))
    load = time.perf_counter() - t0
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        out = compute(con)
        times.append(time.perf_counter() - t0)
    print(f"duckdb {duckdb.__version__}, {a.threads} threads: load {load:.3f} s; compute "
          + ", ".join(f"{t:.3f}" for t in times) + f" s (best {min(times):.3f} s)")
    if a.check:
        ours = {x["code"]: x["value"] for x in json.load(open(a.check))}
        bad = []
        for code, v in out["371300"].items():
            w = ours.get(code)
            if (v is None) != (w is None) or (v is not None and abs(v - w) > 1e-9):
                bad.append(f"{code}: duckdb {v} vs yimeng {w}")
        if bad:
            print("MISMATCH:\n  " + "\n  ".join(bad))
            sys.exit(1)
        print(f"city values agree with yimeng on all {len(out['371300'])} computed indicators")


if __name__ == "__main__":
    main()
