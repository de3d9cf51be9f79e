-- Accounts, sessions, API tokens and inspectors' assigned schools.
-- Kept in step with ../sqlite/0002_accounts.sql.
SET LOCAL citus.multi_shard_modify_mode TO 'sequential';

-- A person who logs in. county_id/school_id place county, school and inspector accounts.
CREATE TABLE app_user (
    id bigint PRIMARY KEY,
    username text NOT NULL UNIQUE,
    display_name text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL,
    county_id integer REFERENCES region (code),
    school_id bigint,
    disabled boolean NOT NULL DEFAULT false,
    must_change_password boolean NOT NULL DEFAULT false,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    last_login_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Cookie sessions: only a hash of the token is stored.
CREATE TABLE user_session (
    token_hash text PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES app_user (id),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    ip text,
    user_agent text
);
CREATE INDEX user_session_by_user ON user_session (user_id);

-- Personal API tokens (Authorization: Bearer …); only a hash is stored.
CREATE TABLE api_token (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES app_user (id),
    name text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    prefix text NOT NULL,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_token_by_user ON api_token (user_id);

-- 责任督学挂牌督导: the schools an inspector is responsible for.
CREATE TABLE inspector_school (
    county_id integer NOT NULL,
    user_id bigint NOT NULL REFERENCES app_user (id),
    school_id bigint NOT NULL,
    assigned_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, user_id, school_id),
    FOREIGN KEY (county_id, school_id) REFERENCES school (county_id, id)
);

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('app_user', 'reference', NULL),
    ('user_session', 'reference', NULL),
    ('api_token', 'reference', NULL),
    ('inspector_school', 'distributed', 'county_id');
