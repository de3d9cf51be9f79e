-- Student-status services (issue 5): the service catalogue (事项清单), the working-day calendar,
-- transfer (转学) and status-change (休学/复学/辍学/毕业/死亡) requests with their approval steps,
-- enrolment applications (入学申请) with uploaded materials, the school zone table (学区),
-- class-size gate overrides, and year rollovers. Kept in step with ../sqlite/0005_student_services.sql.

-- 事项清单: one service item with its five standard elements (办理依据、申请条件、申请材料、办理流程、办理时限).
CREATE TABLE service_item (
    code text PRIMARY KEY,
    name text NOT NULL,
    basis text NOT NULL,
    conditions text NOT NULL,
    materials text NOT NULL,
    steps text NOT NULL,
    time_limit text NOT NULL,
    sort_order integer NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);

INSERT INTO service_item (code, name, basis, conditions, materials, steps, time_limit, sort_order, updated_at, updated_by) VALUES
    ('primary_entry', '小学一年级入学', '《中华人民共和国义务教育法》第十一条、第十二条；《山东省义务教育条例》；县区当年义务教育招生入学工作方案', '当年8月31日前年满6周岁的适龄儿童；户籍或居住地在学区范围内', '户口簿；房产证明或租赁合同；出生医学证明；预防接种证', '家长网上申请并上传材料 → 学校（或县区教育局）审核 → 需要时补充材料 → 受理 → 编班入学', '受理后10个工作日内办结', 1, '2020-01-01T00:00:00Z', 'system'),
    ('junior_entry', '初中入学', '《中华人民共和国义务教育法》第十二条；县区当年义务教育招生入学工作方案', '小学毕业或取得小学学籍证明的学生；户籍或居住地在学区范围内', '户口簿；房产证明或租赁合同；小学学籍证明（或小学毕业证明）', '家长网上申请并上传材料 → 学校（或县区教育局）审核 → 需要时补充材料 → 受理 → 编班入学', '受理后10个工作日内办结', 2, '2020-01-01T00:00:00Z', 'system'),
    ('migrant_child', '随迁子女入学', '《中华人民共和国义务教育法》第十二条；《国务院关于进一步做好进城务工人员随迁子女接受义务教育工作的意见》', '父母在本市务工、持有本市居住证的适龄儿童少年（一年级或七年级）', '户口簿；居住证；务工就业证明；房产证明或租赁合同；出生医学证明和预防接种证（一年级）或小学学籍证明（七年级）', '家长网上申请并上传材料 → 县区教育局（或学校）审核 → 需要时补充材料 → 受理 → 统筹安排学校 → 编班入学', '受理后10个工作日内办结', 3, '2020-01-01T00:00:00Z', 'system'),
    ('transfer', '转学', '《中小学生学籍管理办法》第十四条、第十五条', '在籍学生因家庭迁居等原因需要转学；休学期间按本地规定不能转学', '转学申请；转入学校接收意见；跨市转学须提供转出地同意转出证明或转入学校接收证明', '转入学校（或家长网上）申请 → 转入学校审核 → 转出学校审核 → 县区教育局审核（跨县区时转入、转出县区教育局分别审核）→ 学籍变更', '每一审核环节10个工作日', 4, '2020-01-01T00:00:00Z', 'system'),
    ('suspend', '休学', '《中华人民共和国义务教育法》第十一条；《中小学生学籍管理办法》', '因病或其他特殊原因不能坚持学习的在读学生', '休学申请（注明起止日期和原因）；医院证明等佐证材料', '家长向学校申请 → 学校审核 → 县区教育局审批（义务教育阶段）→ 学籍变更', '每一审核环节10个工作日；休学期限一般不超过一学年', 5, '2020-01-01T00:00:00Z', 'system'),
    ('resume', '复学', '《中小学生学籍管理办法》', '休学期满或休学原因消除的学生', '复学申请；病愈证明等佐证材料', '家长向学校申请 → 学校审核 → 县区教育局审批（义务教育阶段）→ 编班复学', '每一审核环节10个工作日', 6, '2020-01-01T00:00:00Z', 'system'),
    ('record_change', '学籍信息变更', '《中小学生学籍管理办法》第十三条', '学生姓名、身份证件号等基本信息有误或依法变更', '变更申请；户口簿、身份证或公安机关出具的变更证明', '家长向学校申请 → 学校核实并修改 → 县区教育局审核（身份证件号变更）', '10个工作日内办结', 7, '2020-01-01T00:00:00Z', 'system');

-- 工作日历: listed days that differ from the weekday rule (public holidays, 调休 make-up working days).
CREATE TABLE work_calendar_day (
    day date PRIMARY KEY,
    kind text NOT NULL,
    name text NOT NULL
);

-- The seed is yimeng_domain::calendar::HOLIDAY_SEED (a store test checks they agree).
INSERT INTO work_calendar_day (day, kind, name) VALUES
    ('2026-01-01', 'holiday', '元旦'),
    ('2026-01-02', 'holiday', '元旦'),
    ('2026-01-03', 'holiday', '元旦'),
    ('2026-01-04', 'workday', '元旦'),
    ('2026-02-14', 'workday', '春节'),
    ('2026-02-15', 'holiday', '春节'),
    ('2026-02-16', 'holiday', '春节'),
    ('2026-02-17', 'holiday', '春节'),
    ('2026-02-18', 'holiday', '春节'),
    ('2026-02-19', 'holiday', '春节'),
    ('2026-02-20', 'holiday', '春节'),
    ('2026-02-21', 'holiday', '春节'),
    ('2026-02-22', 'holiday', '春节'),
    ('2026-02-23', 'holiday', '春节'),
    ('2026-02-28', 'workday', '春节'),
    ('2026-04-04', 'holiday', '清明节'),
    ('2026-04-05', 'holiday', '清明节'),
    ('2026-04-06', 'holiday', '清明节'),
    ('2026-05-01', 'holiday', '劳动节'),
    ('2026-05-02', 'holiday', '劳动节'),
    ('2026-05-03', 'holiday', '劳动节'),
    ('2026-05-04', 'holiday', '劳动节'),
    ('2026-05-05', 'holiday', '劳动节'),
    ('2026-05-09', 'workday', '劳动节'),
    ('2026-06-19', 'holiday', '端午节'),
    ('2026-06-20', 'holiday', '端午节'),
    ('2026-06-21', 'holiday', '端午节'),
    ('2026-09-25', 'holiday', '中秋节'),
    ('2026-09-26', 'holiday', '中秋节'),
    ('2026-09-27', 'holiday', '中秋节'),
    ('2026-09-20', 'workday', '国庆节'),
    ('2026-10-01', 'holiday', '国庆节'),
    ('2026-10-02', 'holiday', '国庆节'),
    ('2026-10-03', 'holiday', '国庆节'),
    ('2026-10-04', 'holiday', '国庆节'),
    ('2026-10-05', 'holiday', '国庆节'),
    ('2026-10-06', 'holiday', '国庆节'),
    ('2026-10-07', 'holiday', '国庆节'),
    ('2026-10-10', 'workday', '国庆节'),
    ('2027-01-01', 'holiday', '元旦'),
    ('2027-05-01', 'holiday', '劳动节'),
    ('2027-05-02', 'holiday', '劳动节'),
    ('2027-10-01', 'holiday', '国庆节'),
    ('2027-10-02', 'holiday', '国庆节'),
    ('2027-10-03', 'holiday', '国庆节');

-- 转学申请. county_id is the county that owns the request: the receiving school's county, or the
-- sending school's for a move out of Linyi. The current step is kept in columns so that a bureau's
-- queue and the overdue list are one indexed read; the steps themselves are fixed at creation.
CREATE TABLE transfer_request (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    request_no text COLLATE "C" NOT NULL,
    route text NOT NULL,
    started_by text NOT NULL,
    student_county integer,
    student_id bigint,
    student_name text NOT NULL,
    id_card text COLLATE "C",
    student_no text COLLATE "C",
    grade text,
    from_county integer,
    from_school_id bigint,
    from_name text NOT NULL,
    to_county integer,
    to_school_id bigint,
    to_class_id bigint,
    to_name text NOT NULL,
    reason text NOT NULL,
    materials text NOT NULL,
    applicant_phone text,
    state text NOT NULL,
    step integer NOT NULL,
    steps_json text NOT NULL,
    approver_county integer,
    approver_school bigint,
    step_opened_on date NOT NULL,
    step_deadline date,
    refusal_reason text NOT NULL DEFAULT '',
    new_student_id bigint,
    gate_override_reason text,
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    updated_at timestamptz NOT NULL,
    completed_at timestamptz,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, request_no)
);
CREATE INDEX transfer_request_by_state ON transfer_request (county_id, state, step_deadline);
CREATE INDEX transfer_request_by_student ON transfer_request (county_id, student_county, student_id);

-- 学籍异动申请 other than transfers: 休学, 复学, 辍学, 毕业, 死亡.
CREATE TABLE status_request (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    student_id bigint NOT NULL,
    school_id bigint NOT NULL,
    kind text NOT NULL,
    grade text NOT NULL,
    change_json text NOT NULL,
    state text NOT NULL,
    step integer NOT NULL,
    steps_json text NOT NULL,
    approver_county integer,
    approver_school bigint,
    step_opened_on date NOT NULL,
    step_deadline date,
    refusal_reason text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    updated_at timestamptz NOT NULL,
    completed_at timestamptz,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, student_id) REFERENCES student (county_id, id)
);
CREATE INDEX status_request_by_state ON status_request (county_id, state, school_id);
CREATE INDEX status_request_by_student ON status_request (county_id, student_id);

-- Every decision on a request (transfer, status change, enrolment application): who, when, what,
-- why, and whether the step was overdue. One row per step: a second decision on the same step
-- (a double submission) cannot be written.
CREATE TABLE approval_action (
    county_id integer NOT NULL,
    request_kind text NOT NULL,
    request_id bigint NOT NULL,
    seq integer NOT NULL,
    step_kind text NOT NULL,
    action text NOT NULL,
    actor text NOT NULL,
    actor_role text NOT NULL,
    reason text NOT NULL DEFAULT '',
    deadline date,
    overdue boolean NOT NULL DEFAULT false,
    at timestamptz NOT NULL,
    PRIMARY KEY (county_id, request_kind, request_id, seq)
);

-- 入学申请 from the public pages. county_id = the county applied to.
CREATE TABLE enrolment_application (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    app_no text COLLATE "C" NOT NULL,
    kind text NOT NULL,
    grade text NOT NULL,
    school_year integer NOT NULL,
    child_name text NOT NULL,
    id_card text COLLATE "C" NOT NULL,
    sex integer NOT NULL,
    birth_date date NOT NULL,
    street text NOT NULL,
    community text NOT NULL DEFAULT '',
    guardian_name text NOT NULL,
    guardian_phone text NOT NULL,
    school_id bigint,
    state text NOT NULL,
    note text NOT NULL DEFAULT '',
    opened_on date NOT NULL,
    deadline date,
    student_id bigint,
    class_id bigint,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, app_no)
);
CREATE INDEX enrolment_application_by_card ON enrolment_application (county_id, id_card);
CREATE INDEX enrolment_application_by_school ON enrolment_application (county_id, school_id, state);

-- Materials uploaded with an application (images or PDF, checked by their first bytes).
CREATE TABLE enrolment_file (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    application_id bigint NOT NULL,
    material text NOT NULL,
    file_name text NOT NULL,
    content_type text NOT NULL,
    size integer NOT NULL,
    sha256 text NOT NULL,
    content bytea NOT NULL,
    uploaded_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, application_id) REFERENCES enrolment_application (county_id, id)
);
CREATE INDEX enrolment_file_by_application ON enrolment_file (county_id, application_id);

-- 学区: which school serves a street (and optionally a community) for a stage.
CREATE TABLE school_zone (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    stage text NOT NULL,
    street text NOT NULL,
    community text NOT NULL DEFAULT '',
    school_id bigint NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, stage, street, community, school_id),
    FOREIGN KEY (county_id, school_id) REFERENCES school (county_id, id)
);

-- A county bureau's written override of the class-size gate (counted on the plan dashboard).
CREATE TABLE gate_override (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    school_id bigint NOT NULL,
    class_id bigint NOT NULL,
    grade text NOT NULL,
    size_after integer NOT NULL,
    message text NOT NULL,
    reason text NOT NULL,
    context text NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, class_id) REFERENCES class (county_id, id)
);
CREATE INDEX gate_override_by_school ON gate_override (county_id, school_id);

-- 学年升级: one run of the year rollover (city-wide), with its counts.
CREATE TABLE rollover_run (
    id bigint PRIMARY KEY,
    school_year integer NOT NULL,
    counts_json text NOT NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL,
    UNIQUE (school_year)
);

INSERT INTO id_alloc (name, next_id) VALUES ('transfer_request', 1), ('status_request', 1),
    ('enrolment_application', 1), ('enrolment_file', 1), ('school_zone', 1), ('gate_override', 1),
    ('rollover_run', 1);

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('service_item', 'reference', NULL),
    ('work_calendar_day', 'reference', NULL),
    ('transfer_request', 'distributed', 'county_id'),
    ('status_request', 'distributed', 'county_id'),
    ('approval_action', 'distributed', 'county_id'),
    ('enrolment_application', 'distributed', 'county_id'),
    ('enrolment_file', 'distributed', 'county_id'),
    ('school_zone', 'distributed', 'county_id'),
    ('gate_override', 'distributed', 'county_id'),
    ('rollover_run', 'reference', NULL);
