//! Parley: a web workbench for qualitative coding of interview and
//! focus-group transcripts.
//!
//! Layers, from the inside out: [`domain`] (pure types and rules),
//! [`store`] (all SQL), then three front doors over them — [`web`] (pages),
//! [`api`] (JSON under `/api/v1`) and [`cli`]. [`app`] builds and runs the
//! server.

pub mod api;
pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod exchange;
pub mod formats;
pub mod store;
pub mod telemetry;
pub mod transcripts;
pub mod web;
