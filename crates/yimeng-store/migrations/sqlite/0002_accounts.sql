-- Accounts, sessions, API tokens and inspectors' assigned schools.
-- Kept in step with ../postgres/0002_accounts.sql.


-- A person who logs in. county_id/school_id place county, school and inspector accounts.
CREATE TABLE app_user (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    county_id INTEGER REFERENCES region (code),
    school_id INTEGER,
    disabled INTEGER NOT NULL DEFAULT 0,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    last_login_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- Cookie sessions: only a hash of the token is stored.
CREATE TABLE user_session (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES app_user (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT
) STRICT;
CREATE INDEX user_session_by_user ON user_session (user_id);

-- Personal API tokens (Authorization: Bearer …); only a hash is stored.
CREATE TABLE api_token (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES app_user (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
) STRICT;
CREATE INDEX api_token_by_user ON api_token (user_id);

-- 责任督学挂牌督导: the schools an inspector is responsible for.
CREATE TABLE inspector_school (
    county_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES app_user (id),
    school_id INTEGER NOT NULL,
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (county_id, user_id, school_id),
    FOREIGN KEY (county_id, school_id) REFERENCES school (county_id, id)
) STRICT;

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('app_user', 'reference', NULL),
    ('user_session', 'reference', NULL),
    ('api_token', 'reference', NULL),
    ('inspector_school', 'distributed', 'county_id');
