-- A counter per county, raised in the same transaction as every write to its registry rows
-- (imports, form and API saves, status changes). Readers compare it to decide whether figures
-- they computed earlier (a school page's counts) still hold.
CREATE TABLE data_version (
    county_id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;

INSERT INTO data_version (county_id, version) SELECT code, 0 FROM region;

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES ('data_version', 'distributed', 'county_id');
