-- Enrolment applications (入学申请, issue 5): the child's ethnicity (needed to enrol the child into
-- the registry), and the city-wide key that makes one open application per child and school year
-- (a second application anywhere in the city is refused). Decisions on an application are
-- approval_action rows with request_kind 'enrolment'. Kept in step with ../postgres/0006_enrolment.sql.

ALTER TABLE enrolment_application ADD COLUMN ethnicity TEXT NOT NULL DEFAULT '01';

-- One open (or enrolled) application per child and school year, keyed by the ID number like
-- person_key; removed when the application is refused or withdrawn.
CREATE TABLE enrolment_key (
    id_card TEXT NOT NULL,
    school_year INTEGER NOT NULL,
    county_id INTEGER NOT NULL,
    application_id INTEGER NOT NULL,
    PRIMARY KEY (id_card, school_year)
) STRICT;

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('enrolment_key', 'distributed', 'id_card');
