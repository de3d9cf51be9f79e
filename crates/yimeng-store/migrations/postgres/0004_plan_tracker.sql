-- The plan tracker: work plans as loaded from their files, the resident population the preschool
-- indicators divide by, monthly dispatch reports (月调度) with their values and evidence, and
-- indicator snapshots. Kept in step with ../sqlite/0004_plan_tracker.sql.

-- A work plan (工作要点) as loaded: the file text is kept verbatim and parsed by the domain.
CREATE TABLE plan (
    code text PRIMARY KEY,
    year integer NOT NULL,
    title text NOT NULL,
    source text NOT NULL,
    source_sha256 text NOT NULL,
    loaded_at timestamptz NOT NULL,
    loaded_by text NOT NULL
);

-- Resident population aged 3–5 per county and year (学前三年毛入园率的分母).
CREATE TABLE population (
    county_id integer NOT NULL REFERENCES region (code),
    year integer NOT NULL,
    age_3_5 bigint NOT NULL,
    basis text NOT NULL,
    note text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    PRIMARY KEY (county_id, year)
);

-- 月调度: one unit's report on one task for one month. county_id is the owning region: the
-- county for a county's report, the city (371300) for a city department's.
CREATE TABLE dispatch_report (
    county_id integer NOT NULL REFERENCES region (code),
    id bigint NOT NULL,
    plan_code text NOT NULL REFERENCES plan (code),
    task_code text NOT NULL,
    period text NOT NULL,
    unit text NOT NULL,
    progress integer NOT NULL,
    narrative text NOT NULL,
    status text NOT NULL,
    submitted_at timestamptz,
    submitted_by text,
    reviewed_at timestamptz,
    reviewed_by text,
    review_note text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, plan_code, task_code, period, unit)
);
CREATE INDEX dispatch_report_by_period ON dispatch_report (county_id, plan_code, period);

-- Indicator values reported in a dispatch report (reported indicators).
CREATE TABLE dispatch_value (
    county_id integer NOT NULL,
    report_id bigint NOT NULL,
    indicator text NOT NULL,
    value double precision NOT NULL,
    PRIMARY KEY (county_id, report_id, indicator),
    FOREIGN KEY (county_id, report_id) REFERENCES dispatch_report (county_id, id)
);

-- Evidence files of a dispatch report.
CREATE TABLE dispatch_file (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    report_id bigint NOT NULL,
    file_name text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    content bytea NOT NULL,
    uploaded_at timestamptz NOT NULL,
    uploaded_by text NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, report_id) REFERENCES dispatch_report (county_id, id)
);
CREATE INDEX dispatch_file_by_report ON dispatch_file (county_id, report_id);

-- A snapshot of every indicator at one moment (monthly, or taken on demand).
CREATE TABLE indicator_snapshot (
    id bigint PRIMARY KEY,
    plan_code text NOT NULL REFERENCES plan (code),
    as_of date NOT NULL,
    kind text NOT NULL,
    taken_at timestamptz NOT NULL,
    taken_by text NOT NULL
);
CREATE INDEX indicator_snapshot_by_date ON indicator_snapshot (plan_code, as_of);

-- The values of a snapshot, per region (the city and each county).
CREATE TABLE indicator_value (
    county_id integer NOT NULL,
    snapshot_id bigint NOT NULL REFERENCES indicator_snapshot (id),
    indicator text NOT NULL,
    value double precision,
    numerator double precision,
    denominator double precision,
    PRIMARY KEY (county_id, snapshot_id, indicator)
);

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
ALTER TABLE app_user ADD COLUMN department text;
