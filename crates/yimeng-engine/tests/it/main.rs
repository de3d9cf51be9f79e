mod admission;
mod assignment;
