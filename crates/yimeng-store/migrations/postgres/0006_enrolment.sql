-- Enrolment applications (入学申请, issue 5): the child's ethnicity (needed to enrol the child into
-- the registry), and the city-wide key that makes one open application per child and school year
-- (a second application anywhere in the city is refused). Decisions on an application are
-- approval_action rows with request_kind 'enrolment'. Kept in step with ../sqlite/0006_enrolment.sql.

ALTER TABLE enrolment_application ADD COLUMN ethnicity text NOT NULL DEFAULT '01';

-- One open (or enrolled) application per child and school year, keyed by the ID number like
-- person_key; removed when the application is refused or withdrawn.
CREATE TABLE enrolment_key (
    id_card text COLLATE "C" NOT NULL,
    school_year integer NOT NULL,
    county_id integer NOT NULL,
    application_id bigint NOT NULL,
    PRIMARY KEY (id_card, school_year)
);

INSERT INTO yimeng_table_kind (tbl, kind, dist_column) VALUES
    ('enrolment_key', 'distributed', 'id_card');
