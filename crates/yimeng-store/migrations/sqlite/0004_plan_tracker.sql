-- The plan tracker: work plans as loaded from their files, the resident population the preschool
-- indicators divide by, monthly dispatch reports (月调度) with their values and evidence, and
-- indicator snapshots. Kept in step with ../postgres/0004_plan_tracker.sql.

-- A work plan (工作要点) as loaded: the file text is kept verbatim and parsed by the domain.
CREATE TABLE plan (
    code TEXT PRIMARY KEY,
    year INTEGER NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    loaded_at TEXT NOT NULL,
    loaded_by TEXT NOT NULL
) STRICT;

-- Resident population aged 3–5 per county and year (学前三年毛入园率的分母).
CREATE TABLE population (
    county_id INTEGER NOT NULL REFERENCES region (code),
    year INTEGER NOT NULL,
    age_3_5 INTEGER NOT NULL,
    basis TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (county_id, year)
) STRICT;

-- 月调度: one unit's report on one task for one month. county_id is the owning region: the
-- county for a county's report, the city (371300) for a city department's.
CREATE TABLE dispatch_report (
    county_id INTEGER NOT NULL REFERENCES region (code),
    id INTEGER NOT NULL,
    plan_code TEXT NOT NULL REFERENCES plan (code),
    task_code TEXT NOT NULL,
    period TEXT NOT NULL,
    unit TEXT NOT NULL,
    progress INTEGER NOT NULL,
    narrative TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_at TEXT,
    submitted_by TEXT,
    reviewed_at TEXT,
    reviewed_by TEXT,
    review_note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, plan_code, task_code, period, unit)
) STRICT;
CREATE INDEX dispatch_report_by_period ON dispatch_report (county_id, plan_code, period);

-- Indicator values reported in a dispatch report (reported indicators).
CREATE TABLE dispatch_value (
    county_id INTEGER NOT NULL,
    report_id INTEGER NOT NULL,
    indicator TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (county_id, report_id, indicator),
    FOREIGN KEY (county_id, report_id) REFERENCES dispatch_report (county_id, id)
) STRICT;

-- Evidence files of a dispatch report.
CREATE TABLE dispatch_file (
    county_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    report_id INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    uploaded_at TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, report_id) REFERENCES dispatch_report (county_id, id)
) STRICT;
CREATE INDEX dispatch_file_by_report ON dispatch_file (county_id, report_id);

-- A snapshot of every indicator at one moment (monthly, or taken on demand).
CREATE TABLE indicator_snapshot (
    id INTEGER PRIMARY KEY,
    plan_code TEXT NOT NULL REFERENCES plan (code),
    as_of TEXT NOT NULL,
    kind TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    taken_by TEXT NOT NULL
) STRICT;
CREATE INDEX indicator_snapshot_by_date ON indicator_snapshot (plan_code, as_of);

-- The values of a snapshot, per region (the city and each county).
CREATE TABLE indicator_value (
    county_id INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES indicator_snapshot (id),
    indicator TEXT NOT NULL,
    value REAL,
    numerator REAL,
    denominator REAL,
    PRIMARY KEY (county_id, snapshot_id, indicator)
) STRICT;

INSERT INTO id_alloc (name, next_id) VALUES ('dispatch_report', 1), ('dispatch_file', 1), ('indicator_snapshot', 1);

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('plan', 'reference', NULL),
    ('population', 'distributed', 'county_id'),
    ('dispatch_report', 'distributed', 'county_id'),
    ('dispatch_value', 'distributed', 'county_id'),
    ('dispatch_file', 'distributed', 'county_id'),
    ('indicator_snapshot', 'reference', NULL),
    ('indicator_value', 'distributed', 'county_id');

-- The department (科室) of a city-department account: the plan items it leads are its own.
ALTER TABLE app_user ADD COLUMN department TEXT;
