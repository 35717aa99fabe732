//! Integration tests: the real app over real PostgreSQL, one fresh database
//! per test.

mod access;
mod agreement;
mod assets;
mod auth;
mod cli;
mod coding;
mod contract;
mod documents;
mod exports;
mod faults;
mod hardening;
mod health;
mod helpers;
mod limits;
mod matrix;
mod members;
mod projects;
mod refi;
mod search;
mod seeding;
mod servers;
mod surveys;
mod users;
