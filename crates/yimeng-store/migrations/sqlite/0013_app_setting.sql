-- Settings of an installation kept in its database, so that every process that opens it (the
-- server, the command line) reads the same: `clock_today`, the day a demo city lives in (its
-- plan's year), which the plan tracker judges progress at instead of the real date.
CREATE TABLE app_setting (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES ('app_setting', 'reference', NULL);
