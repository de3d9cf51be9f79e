-- The plan indicators count staff hired in the plan year (teachers recruited, funded normal
-- graduates placed): a range of hire dates per county, read from the index alone instead of a
-- lookup of every staff row of the county (130,000 at city scale for about 3,000 hires a year).
CREATE INDEX staff_by_hire ON staff (county_id, hire_date, status, school_id, post, hire_source);
