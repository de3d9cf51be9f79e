-- Registry foundation: regions, schools, staff, classes, students, national keys, imports, audit.
-- Kept in step with ../sqlite/0001_registry.sql (same tables and columns; a parity test checks).
-- County-owned tables lead every key with county_id (design.md, scale-out rules).
-- Codes, numbers and names compare byte-wise (COLLATE "C"), as in SQLite: the same order on
-- both stores, and key comparisons that do not go through the locale.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

-- What each table is under a distributed deployment: 'reference' (one copy per node),
-- 'distributed' (by dist_column), 'local'. A catalog test checks the rules against it.
CREATE TABLE yimeng_table_kind (
    tbl text PRIMARY KEY,
    kind text NOT NULL,
    dist_column text
);

-- GB/T 2260 divisions (and the bureau's zones with their NBS statistical codes).
CREATE TABLE region (
    code integer PRIMARY KEY,
    name text NOT NULL,
    name_en text NOT NULL,
    parent_code integer REFERENCES region (code),
    kind text NOT NULL,
    in_gb2260 boolean NOT NULL,
    sort_order integer NOT NULL,
    valid_from date NOT NULL,
    valid_to date
);

INSERT INTO region (code, name, name_en, parent_code, kind, in_gb2260, sort_order, valid_from) VALUES
    (371300, '临沂市', 'Linyi', NULL, 'city', true, 0, '2020-01-01'),
    (371302, '兰山区', 'Lanshan', 371300, 'district', true, 1, '2020-01-01'),
    (371311, '罗庄区', 'Luozhuang', 371300, 'district', true, 2, '2020-01-01'),
    (371312, '河东区', 'Hedong', 371300, 'district', true, 3, '2020-01-01'),
    (371321, '沂南县', 'Yinan', 371300, 'county', true, 4, '2020-01-01'),
    (371322, '郯城县', 'Tancheng', 371300, 'county', true, 5, '2020-01-01'),
    (371323, '沂水县', 'Yishui', 371300, 'county', true, 6, '2020-01-01'),
    (371324, '兰陵县', 'Lanling', 371300, 'county', true, 7, '2020-01-01'),
    (371325, '费县', 'Feixian', 371300, 'county', true, 8, '2020-01-01'),
    (371326, '平邑县', 'Pingyi', 371300, 'county', true, 9, '2020-01-01'),
    (371327, '莒南县', 'Junan', 371300, 'county', true, 10, '2020-01-01'),
    (371328, '蒙阴县', 'Mengyin', 371300, 'county', true, 11, '2020-01-01'),
    (371329, '临沭县', 'Linshu', 371300, 'county', true, 12, '2020-01-01'),
    (371371, '临沂高新技术产业开发区', 'Linyi High-tech Zone', 371300, 'zone', false, 13, '2020-01-01'),
    (371372, '临沂经济技术开发区', 'Linyi Economic and Technological Development Zone', 371300, 'zone', false, 14, '2020-01-01'),
    (371373, '临沂临港经济开发区', 'Linyi Lingang Economic Development Zone', 371300, 'zone', false, 15, '2020-01-01');

-- Id blocks handed out by the application, so both stores assign ids the same way.
CREATE TABLE id_alloc (
    name text PRIMARY KEY,
    next_id bigint NOT NULL
);

INSERT INTO id_alloc (name, next_id) VALUES
    ('school', 1), ('class', 1), ('student', 1), ('staff', 1), ('student_event', 1),
    ('audit', 1), ('import_batch', 1), ('app_user', 1), ('api_token', 1);

-- One import run: who, when, what file, and what it did.
CREATE TABLE import_batch (
    id bigint PRIMARY KEY,
    entity text NOT NULL,
    file_name text NOT NULL,
    file_sha256 text NOT NULL,
    actor text NOT NULL,
    mode text NOT NULL,
    rows_total bigint NOT NULL,
    rows_inserted bigint NOT NULL,
    rows_updated bigint NOT NULL,
    rows_unchanged bigint NOT NULL,
    rows_rejected bigint NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL
);

-- 学校 (school). code = 学校标识码, nationally unique through school_key.
CREATE TABLE school (
    county_id integer NOT NULL REFERENCES region (code),
    id bigint NOT NULL,
    code text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL,
    name_py text COLLATE "C" NOT NULL,
    school_type text NOT NULL,
    stages text NOT NULL,
    ownership text NOT NULL,
    inclusive boolean NOT NULL DEFAULT false,
    location text NOT NULL,
    central boolean NOT NULL DEFAULT false,
    capacity bigint,
    address text NOT NULL DEFAULT '',
    building_area bigint,
    sports_area bigint,
    equipment_value_fen bigint,
    books bigint,
    computers bigint,
    multimedia_rooms bigint,
    bandwidth_mbps bigint,
    ipv6 boolean NOT NULL DEFAULT false,
    security_guard boolean NOT NULL DEFAULT false,
    closed_campus boolean NOT NULL DEFAULT false,
    alarm_and_video boolean NOT NULL DEFAULT false,
    guard_post boolean NOT NULL DEFAULT false,
    content_hash bigint NOT NULL,
    created_batch bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, code)
);
CREATE INDEX school_by_name ON school (county_id, name);
CREATE INDEX school_by_type ON school (county_id, school_type);

-- National uniqueness of the school identifier (distributed by code, not by county).
CREATE TABLE school_key (
    code text COLLATE "C" PRIMARY KEY,
    county_id integer NOT NULL,
    school_id bigint NOT NULL
);

-- 教职工 (staff).
CREATE TABLE staff (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    school_id bigint NOT NULL,
    name text COLLATE "C" NOT NULL,
    name_py text COLLATE "C" NOT NULL,
    id_card text COLLATE "C" NOT NULL,
    sex smallint NOT NULL,
    birth_date date NOT NULL,
    post text NOT NULL,
    subjects text NOT NULL DEFAULT '',
    title text NOT NULL,
    education text NOT NULL,
    cert_kind text,
    cert_no text,
    hire_date date,
    hire_source text,
    party_member boolean NOT NULL DEFAULT false,
    backbone text NOT NULL,
    status text NOT NULL,
    phone text,
    content_hash bigint NOT NULL,
    created_batch bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, school_id) REFERENCES school (county_id, id)
);
CREATE INDEX staff_by_school ON staff (county_id, school_id);
-- Name search: by pinyin initials, or by a name prefix within the initials' range.
CREATE INDEX staff_by_py ON staff (county_id, name_py, name);

-- 班级 (class). Its size is derived from the roster, never stored.
CREATE TABLE class (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    school_id bigint NOT NULL,
    school_year integer NOT NULL,
    grade text NOT NULL,
    class_no integer NOT NULL,
    name text NOT NULL,
    head_teacher_id bigint,
    content_hash bigint NOT NULL,
    created_batch bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, school_id, school_year, grade, class_no),
    FOREIGN KEY (county_id, school_id) REFERENCES school (county_id, id),
    FOREIGN KEY (county_id, head_teacher_id) REFERENCES staff (county_id, id)
);

-- 学生 (student) with the current school, class and 学籍 status.
CREATE TABLE student (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    school_id bigint NOT NULL,
    class_id bigint,
    name text COLLATE "C" NOT NULL,
    name_py text COLLATE "C" NOT NULL,
    sex smallint NOT NULL,
    birth_date date NOT NULL,
    id_card text COLLATE "C",
    student_no text COLLATE "C" NOT NULL,
    ethnicity text NOT NULL,
    hukou_code integer,
    migrant boolean NOT NULL DEFAULT false,
    left_behind boolean NOT NULL DEFAULT false,
    disability text,
    poor boolean NOT NULL DEFAULT false,
    orphan boolean NOT NULL DEFAULT false,
    guardian1_name text,
    guardian1_relation text,
    guardian1_phone text,
    guardian2_name text,
    guardian2_relation text,
    guardian2_phone text,
    status text NOT NULL,
    entry_date date,
    content_hash bigint NOT NULL,
    created_batch bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, school_id) REFERENCES school (county_id, id),
    FOREIGN KEY (county_id, class_id) REFERENCES class (county_id, id)
);
-- Rosters (school, class) and status counts per school and class.
CREATE INDEX student_by_school ON student (county_id, school_id, class_id, status);
-- Name search: by pinyin initials, or by a name prefix within the initials' range.
CREATE INDEX student_by_py ON student (county_id, name_py, name);

-- One person, one number: every ID number and 学籍号 in use, nationally unique
-- (distributed by value). kind = 'id_card' | 'student_no'; owner = 'student' | 'staff'.
CREATE TABLE person_key (
    kind text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL,
    county_id integer NOT NULL,
    owner text NOT NULL,
    owner_id bigint NOT NULL,
    PRIMARY KEY (value, kind)
);

-- 学籍异动 (status changes) with who, when and why.
CREATE TABLE student_event (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    student_id bigint NOT NULL,
    school_id bigint NOT NULL,
    change_type text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    reason text NOT NULL DEFAULT '',
    occurred_on date NOT NULL,
    actor text NOT NULL,
    source text NOT NULL,
    batch_id bigint,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, student_id) REFERENCES student (county_id, id)
);
CREATE INDEX student_event_by_student ON student_event (county_id, student_id);

-- Append-only audit log: every write, with who, when, from where, what, before and after.
-- county_id is the county of the record, or 371300 for city-level actions.
CREATE TABLE audit_log (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    actor_role text NOT NULL,
    ip text,
    request_id text,
    action text NOT NULL,
    entity text NOT NULL,
    entity_id bigint,
    summary text NOT NULL,
    before_json text,
    after_json text,
    PRIMARY KEY (county_id, id)
);
CREATE INDEX audit_by_entity ON audit_log (county_id, entity, entity_id);
CREATE INDEX audit_by_time ON audit_log (county_id, at);

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('yimeng_table_kind', 'reference', NULL),
    ('region', 'reference', NULL),
    ('id_alloc', 'reference', NULL),
    ('import_batch', 'reference', NULL),
    ('school', 'distributed', 'county_id'),
    ('school_key', 'distributed', 'code'),
    ('staff', 'distributed', 'county_id'),
    ('class', 'distributed', 'county_id'),
    ('student', 'distributed', 'county_id'),
    ('person_key', 'distributed', 'value'),
    ('student_event', 'distributed', 'county_id'),
    ('audit_log', 'distributed', 'county_id');
