-- Registry foundation: regions, schools, staff, classes, students, national keys, imports, audit.
-- Kept in step with ../postgres/0001_registry.sql (same tables and columns; a parity test checks).
-- County-owned tables lead every key with county_id (design.md, scale-out rules).

-- What each table is under a distributed deployment: 'reference' (one copy per node),
-- 'distributed' (by dist_column), 'local'. A catalog test checks the rules against it.
CREATE TABLE yimeng_table_kind (
    tbl TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    dist_column TEXT
) STRICT;

-- GB/T 2260 divisions (and the bureau's zones with their NBS statistical codes).
CREATE TABLE region (
    code INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    parent_code INTEGER REFERENCES region (code),
    kind TEXT NOT NULL,
    in_gb2260 INTEGER NOT NULL,
    sort_order INTEGER NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT
) STRICT;

INSERT INTO region (code, name, name_en, parent_code, kind, in_gb2260, sort_order, valid_from) VALUES
    (371300, '临沂市', 'Linyi', NULL, 'city', 1, 0, '2020-01-01'),
    (371302, '兰山区', 'Lanshan', 371300, 'district', 1, 1, '2020-01-01'),
    (371311, '罗庄区', 'Luozhuang', 371300, 'district', 1, 2, '2020-01-01'),
    (371312, '河东区', 'Hedong', 371300, 'district', 1, 3, '2020-01-01'),
    (371321, '沂南县', 'Yinan', 371300, 'county', 1, 4, '2020-01-01'),
    (371322, '郯城县', 'Tancheng', 371300, 'county', 1, 5, '2020-01-01'),
    (371323, '沂水县', 'Yishui', 371300, 'county', 1, 6, '2020-01-01'),
    (371324, '兰陵县', 'Lanling', 371300, 'county', 1, 7, '2020-01-01'),
    (371325, '费县', 'Feixian', 371300, 'county', 1, 8, '2020-01-01'),
    (371326, '平邑县', 'Pingyi', 371300, 'county', 1, 9, '2020-01-01'),
    (371327, '莒南县', 'Junan', 371300, 'county', 1, 10, '2020-01-01'),
    (371328, '蒙阴县', 'Mengyin', 371300, 'county', 1, 11, '2020-01-01'),
    (371329, '临沭县', 'Linshu', 371300, 'county', 1, 12, '2020-01-01'),
    (371371, '临沂高新技术产业开发区', 'Linyi High-tech Zone', 371300, 'zone', 0, 13, '2020-01-01'),
    (371372, '临沂经济技术开发区', 'Linyi Economic and Technological Development Zone', 371300, 'zone', 0, 14, '2020-01-01'),
    (371373, '临沂临港经济开发区', 'Linyi Lingang Economic Development Zone', 371300, 'zone', 0, 15, '2020-01-01');

-- Id blocks handed out by the application, so both stores assign ids the same way.
CREATE TABLE id_alloc (
    name TEXT PRIMARY KEY,
    next_id INTEGER NOT NULL
) STRICT;

INSERT INTO id_alloc (name, next_id) VALUES
    ('school', 1), ('class', 1), ('student', 1), ('staff', 1), ('student_event', 1),
    ('audit', 1), ('import_batch', 1), ('app_user', 1), ('api_token', 1);

-- One import run: who, when, what file, and what it did.
CREATE TABLE import_batch (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    actor TEXT NOT NULL,
    mode TEXT NOT NULL,
    rows_total INTEGER NOT NULL,
    rows_inserted INTEGER NOT NULL,
    rows_updated INTEGER NOT NULL,
    rows_unchanged INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
) STRICT;

-- 学校 (school). code = 学校标识码, nationally unique through school_key.
CREATE TABLE school (
    county_id INTEGER NOT NULL REFERENCES region (code),
    id INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    name_py TEXT NOT NULL,
    school_type TEXT NOT NULL,
    stages TEXT NOT NULL,
    ownership TEXT NOT NULL,
    inclusive INTEGER NOT NULL DEFAULT 0,
    location TEXT NOT NULL,
    central INTEGER NOT NULL DEFAULT 0,
    capacity INTEGER,
    address TEXT NOT NULL DEFAULT '',
    building_area INTEGER,
    sports_area INTEGER,
    equipment_value_fen INTEGER,
    books INTEGER,
    computers INTEGER,
    multimedia_rooms INTEGER,
    bandwidth_mbps INTEGER,
    ipv6 INTEGER NOT NULL DEFAULT 0,
    security_guard INTEGER NOT NULL DEFAULT 0,
    closed_campus INTEGER NOT NULL DEFAULT 0,
    alarm_and_video INTEGER NOT NULL DEFAULT 0,
    guard_post INTEGER NOT NULL DEFAULT 0,
    content_hash INTEGER NOT NULL,
    created_batch INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, code)
) STRICT;
CREATE INDEX school_by_name ON school (county_id, name);
CREATE INDEX school_by_type ON school (county_id, school_type);

-- National uniqueness of the school identifier (distributed by code, not by county).
CREATE TABLE school_key (
    code TEXT PRIMARY KEY,
    county_id INTEGER NOT NULL,
    school_id INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- 教职工 (staff).
CREATE TABLE staff (
    county_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    school_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    name_py TEXT NOT NULL,
    id_card TEXT NOT NULL,
    sex INTEGER NOT NULL,
    birth_date TEXT NOT NULL,
    post TEXT NOT NULL,
    subjects TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    education TEXT NOT NULL,
    cert_kind TEXT,
    cert_no TEXT,
    hire_date TEXT,
    hire_source TEXT,
    party_member INTEGER NOT NULL DEFAULT 0,
    backbone TEXT NOT NULL,
    status TEXT NOT NULL,
    phone TEXT,
    content_hash INTEGER NOT NULL,
    created_batch INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, school_id) REFERENCES school (county_id, id)
) STRICT;
CREATE INDEX staff_by_school ON staff (county_id, school_id);
-- Name search: by pinyin initials, or by a name prefix within the initials' range.
CREATE INDEX staff_by_py ON staff (county_id, name_py, name);

-- 班级 (class). Its size is derived from the roster, never stored.
CREATE TABLE class (
    county_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    school_id INTEGER NOT NULL,
    school_year INTEGER NOT NULL,
    grade TEXT NOT NULL,
    class_no INTEGER NOT NULL,
    name TEXT NOT NULL,
    head_teacher_id INTEGER,
    content_hash INTEGER NOT NULL,
    created_batch INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, school_id, school_year, grade, class_no),
    FOREIGN KEY (county_id, school_id) REFERENCES school (county_id, id),
    FOREIGN KEY (county_id, head_teacher_id) REFERENCES staff (county_id, id)
) STRICT;

-- 学生 (student) with the current school, class and 学籍 status.
CREATE TABLE student (
    county_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    school_id INTEGER NOT NULL,
    class_id INTEGER,
    name TEXT NOT NULL,
    name_py TEXT NOT NULL,
    sex INTEGER NOT NULL,
    birth_date TEXT NOT NULL,
    id_card TEXT,
    student_no TEXT NOT NULL,
    ethnicity TEXT NOT NULL,
    hukou_code INTEGER,
    migrant INTEGER NOT NULL DEFAULT 0,
    left_behind INTEGER NOT NULL DEFAULT 0,
    disability TEXT,
    poor INTEGER NOT NULL DEFAULT 0,
    orphan INTEGER NOT NULL DEFAULT 0,
    guardian1_name TEXT,
    guardian1_relation TEXT,
    guardian1_phone TEXT,
    guardian2_name TEXT,
    guardian2_relation TEXT,
    guardian2_phone TEXT,
    status TEXT NOT NULL,
    entry_date TEXT,
    content_hash INTEGER NOT NULL,
    created_batch INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, school_id) REFERENCES school (county_id, id),
    FOREIGN KEY (county_id, class_id) REFERENCES class (county_id, id)
) STRICT, WITHOUT ROWID;
-- Rosters (school, class) and status counts per school and class.
CREATE INDEX student_by_school ON student (county_id, school_id, class_id, status);
-- Name search: by pinyin initials, or by a name prefix within the initials' range.
CREATE INDEX student_by_py ON student (county_id, name_py, name);

-- One person, one number: every ID number and 学籍号 in use, nationally unique
-- (distributed by value). kind = 'id_card' | 'student_no'; owner = 'student' | 'staff'.
CREATE TABLE person_key (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    county_id INTEGER NOT NULL,
    owner TEXT NOT NULL,
    owner_id INTEGER NOT NULL,
    PRIMARY KEY (value, kind)
) STRICT, WITHOUT ROWID;

-- 学籍异动 (status changes) with who, when and why.
CREATE TABLE student_event (
    county_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    student_id INTEGER NOT NULL,
    school_id INTEGER NOT NULL,
    change_type TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    occurred_on TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    batch_id INTEGER,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, student_id) REFERENCES student (county_id, id)
) STRICT;
CREATE INDEX student_event_by_student ON student_event (county_id, student_id);

-- Append-only audit log: every write, with who, when, from where, what, before and after.
-- county_id is the county of the record, or 371300 for city-level actions.
CREATE TABLE audit_log (
    county_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    ip TEXT,
    request_id TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    summary TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    PRIMARY KEY (county_id, id)
) STRICT;
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
