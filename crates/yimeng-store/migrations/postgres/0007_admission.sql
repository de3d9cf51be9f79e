-- Senior-high unified admission (中考统一招生, issue 6): the rounds the city department runs, their
-- uploaded exchange files, the hashed ID numbers for the public lookup, the results and the
-- cut-off lines. City-level data (one admission for the whole city): reference tables keyed by
-- the round, not county-owned. Kept in step with ../sqlite/0007_admission.sql.

-- 招生批次（录取轮次）: one year's admission, draft → validated → dry_run → published.
CREATE TABLE admission_round (
    id bigint PRIMARY KEY,
    year integer NOT NULL,
    name text NOT NULL,
    status text NOT NULL,
    -- Per-round random salt of the ID-number hashes (hex).
    id_salt text NOT NULL,
    -- The last validation's problems (JSON list), NULL when it passed or never ran.
    issues_json text,
    -- The dry run's counts (JSON), NULL before the first dry run.
    summary_json text,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    updated_at timestamptz NOT NULL,
    published_at timestamptz,
    published_by text,
    UNIQUE (year, name)
);

-- The uploaded exchange files (candidates, schools, quotas, policy) as uploaded. The ID-number
-- mapping (candidate_ids) is recorded here without its content: only hashes are kept.
CREATE TABLE admission_file (
    round_id bigint NOT NULL REFERENCES admission_round (id),
    kind text NOT NULL,
    file_name text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    content bytea NOT NULL,
    uploaded_at timestamptz NOT NULL,
    uploaded_by text NOT NULL,
    PRIMARY KEY (round_id, kind)
);

-- 考生号 → salted SHA-256 of the normalised ID number (no plaintext ID numbers are stored).
CREATE TABLE admission_identity (
    round_id bigint NOT NULL REFERENCES admission_round (id),
    candidate_id text NOT NULL,
    id_hash text NOT NULL,
    PRIMARY KEY (round_id, candidate_id)
);

-- 录取结果: every candidate of the round once (school_code NULL when not placed).
CREATE TABLE admission_result (
    round_id bigint NOT NULL REFERENCES admission_round (id),
    candidate_id text NOT NULL,
    seq integer NOT NULL,
    junior_school text NOT NULL,
    total text NOT NULL,
    school_code text,
    pool text,
    batch text,
    choice integer,
    PRIMARY KEY (round_id, candidate_id)
);
CREATE INDEX admission_result_by_seq ON admission_result (round_id, seq);
CREATE INDEX admission_result_by_school ON admission_result (round_id, school_code, seq);

-- 录取分数线: one row per pool (general, or quota for one junior school).
CREATE TABLE admission_cutoff (
    round_id bigint NOT NULL REFERENCES admission_round (id),
    seq integer NOT NULL,
    school_code text NOT NULL,
    pool text NOT NULL,
    junior_school text NOT NULL,
    planned integer NOT NULL,
    capacity integer NOT NULL,
    admitted integer NOT NULL,
    min_total text,
    PRIMARY KEY (round_id, seq)
);

INSERT INTO id_alloc (name, next_id) VALUES ('admission_round', 1);

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('admission_round', 'reference', NULL),
    ('admission_file', 'reference', NULL),
    ('admission_identity', 'reference', NULL),
    ('admission_result', 'reference', NULL),
    ('admission_cutoff', 'reference', NULL);
