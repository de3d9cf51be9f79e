mod assignment;
