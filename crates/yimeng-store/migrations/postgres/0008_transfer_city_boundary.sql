-- Transfers across the city boundary (issue 5): 外市转入 and 转出本市.
-- incoming_json holds the record of a student coming from outside Linyi, as the receiving school
-- entered it (the student form's fields); it is checked again and written into the registry at
-- the final approval. transfer_file holds the materials the route requires (同意转出证明,
-- 接收证明): JPEG, PNG or PDF, checked by their first bytes.
-- Kept in step with ../sqlite/0008_transfer_city_boundary.sql.

ALTER TABLE transfer_request ADD COLUMN incoming_json text;

CREATE TABLE transfer_file (
    county_id integer NOT NULL,
    id bigint NOT NULL,
    request_id bigint NOT NULL,
    material text NOT NULL,
    file_name text NOT NULL,
    content_type text NOT NULL,
    size integer NOT NULL,
    sha256 text NOT NULL,
    content bytea NOT NULL,
    uploaded_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, request_id) REFERENCES transfer_request (county_id, id)
);
CREATE INDEX transfer_file_by_request ON transfer_file (county_id, request_id);

INSERT INTO id_alloc (name, next_id) VALUES ('transfer_file', 1);
INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('transfer_file', 'distributed', 'county_id');
