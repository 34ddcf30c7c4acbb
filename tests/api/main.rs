//! HTTP tests of the real application, one test binary (one link) for all.
#![allow(clippy::unwrap_used)]

mod helpers;
mod persistence;
mod v1_auth;
mod v1_bad_input;
mod v1_concurrency;
mod v1_protocol;
