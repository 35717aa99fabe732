//! Integration tests: the real app over real PostgreSQL, one fresh database
//! per test.

mod auth;
mod cli;
mod coding;
mod documents;
mod health;
mod helpers;
mod members;
mod projects;
