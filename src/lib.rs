//! shipshape: production readiness scorecards for GitHub repositories.
//!
//! The scoring engine ([`engine`]) is pure: facts about a repository ([`facts`]), a policy ([`policy`]), the
//! service's catalog entry ([`catalog`]) and today's date in, a [`engine::Scorecard`] out. The command line, pull
//! request checks and sweeps all call it the same way.

pub mod app;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod codeowners;
pub mod commands;
pub mod config;
pub mod dashboard;
pub mod diag;
pub mod engine;
pub mod facts;
pub mod gitattributes;
pub mod github;
pub mod http;
pub mod initiatives;
pub mod jq;
pub mod marker;
pub mod policy;
pub mod providers;
pub mod report;
pub mod schema;
pub mod secret;
pub mod serve;
pub mod server;
pub mod slack;
pub mod store;
pub mod tracking;
pub mod validate;
pub mod web;
pub mod worker;
pub mod yaml;
