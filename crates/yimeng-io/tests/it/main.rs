//! yimeng-io integration tests: files built in code (no large files in the repository).

mod bombs;
mod support;
mod written;
