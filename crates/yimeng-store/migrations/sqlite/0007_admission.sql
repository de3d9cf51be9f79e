-- Senior-high unified admission (中考统一招生, issue 6): the rounds the city department runs, their
-- uploaded exchange files, the hashed ID numbers for the public lookup, the results and the
-- cut-off lines. City-level data (one admission for the whole city): reference tables keyed by
-- the round, not county-owned. Kept in step with ../postgres/0007_admission.sql.

-- 招生批次（录取轮次）: one year's admission, draft → validated → dry_run → published.
CREATE TABLE admission_round (
    id INTEGER PRIMARY KEY,
    year INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    -- Per-round random salt of the ID-number hashes (hex).
    id_salt TEXT NOT NULL,
    -- The last validation's problems (JSON list), NULL when it passed or never ran.
    issues_json TEXT,
    -- The dry run's counts (JSON), NULL before the first dry run.
    summary_json TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    published_at TEXT,
    published_by TEXT,
    UNIQUE (year, name)
) STRICT;

-- The uploaded exchange files (candidates, schools, quotas, policy) as uploaded. The ID-number
-- mapping (candidate_ids) is recorded here without its content: only hashes are kept.
CREATE TABLE admission_file (
    round_id INTEGER NOT NULL REFERENCES admission_round (id),
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    uploaded_at TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    PRIMARY KEY (round_id, kind)
) STRICT;

-- 考生号 → salted SHA-256 of the normalised ID number (no plaintext ID numbers are stored).
CREATE TABLE admission_identity (
    round_id INTEGER NOT NULL REFERENCES admission_round (id),
    candidate_id TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    PRIMARY KEY (round_id, candidate_id)
) STRICT;

-- 录取结果: every candidate of the round once (school_code NULL when not placed).
CREATE TABLE admission_result (
    round_id INTEGER NOT NULL REFERENCES admission_round (id),
    candidate_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    junior_school TEXT NOT NULL,
    total TEXT NOT NULL,
    school_code TEXT,
    pool TEXT,
    batch TEXT,
    choice INTEGER,
    PRIMARY KEY (round_id, candidate_id)
) STRICT;
CREATE INDEX admission_result_by_seq ON admission_result (round_id, seq);
CREATE INDEX admission_result_by_school ON admission_result (round_id, school_code, seq);

-- 录取分数线: one row per pool (general, or quota for one junior school).
CREATE TABLE admission_cutoff (
    round_id INTEGER NOT NULL REFERENCES admission_round (id),
    seq INTEGER NOT NULL,
    school_code TEXT NOT NULL,
    pool TEXT NOT NULL,
    junior_school TEXT NOT NULL,
    planned INTEGER NOT NULL,
    capacity INTEGER NOT NULL,
    admitted INTEGER NOT NULL,
    min_total TEXT,
    PRIMARY KEY (round_id, seq)
) STRICT;

INSERT INTO id_alloc (name, next_id) VALUES ('admission_round', 1);

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('admission_round', 'reference', NULL),
    ('admission_file', 'reference', NULL),
    ('admission_identity', 'reference', NULL),
    ('admission_result', 'reference', NULL),
    ('admission_cutoff', 'reference', NULL);
