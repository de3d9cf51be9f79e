//! # yimeng — the command line of the Yimeng (沂蒙) education governance platform
//!
//! Parses commands and prints results; all work is done by the library crates. It is the only
//! crate that uses `anyhow`.
#![forbid(unsafe_code)]

mod cli;

/// mimalloc: imports move millions of small strings between threads, where it is markedly
/// faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
