//! # yimeng-engine — CPU engines of Yimeng (沂蒙)
//!
//! Owns the computations that run over in-memory data: senior-high admission matching
//! (平行志愿 with quota-to-school pools), balanced class assignment (阳光分班) and indicator
//! math. Every engine is pure and deterministic: the same input and seed give the same output,
//! ties are broken by stable keys, and randomness comes only from a seeded generator.
//!
//! It must not do IO, async, or storage; callers parse files and load rows, then hand plain
//! data to these functions.
#![forbid(unsafe_code)]

pub mod assignment;
pub mod rng;

pub mod admission;
pub mod error;
pub mod indicator;

pub use error::EngineError;
