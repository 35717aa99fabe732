//! Browser tests: the real app, driven in headless Chromium.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

mod accessibility;
mod accounts;
mod agreement;
mod coding;
mod harness;
mod positions;
mod surveys;
mod transcripts;
