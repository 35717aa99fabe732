//! Parley: a web workbench for qualitative coding of interview and
//! focus-group transcripts.
//!
//! Layers, from the inside out: [`domain`] (pure types and rules),
//! [`store`] (all SQL) and [`formats`] (pure file readers and writers);
//! [`service`], the use cases; then three doors over them that never import
//! each other — [`web`] (pages), [`api`] (JSON under `/api/v1`) and [`cli`] —
//! the first two sharing [`http`] (errors, extractors, uploads). [`router`]
//! assembles the route table above the doors; [`app`] runs the server.

pub mod api;
pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod formats;
pub mod http;
pub mod router;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod web;
