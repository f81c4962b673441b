//! Tests of the GitHub App against a stateful fake GitHub (`fake_github`), driven through the real octocrab client.

mod browser;
mod browser_harness;
mod catalog_partial;
mod ci_status;
mod cli_github;
mod commands;
mod comment_limits;
mod credentials;
mod e2e;
mod edge;
mod fake_github;
mod fake_github_selftest;
mod fake_slack;
mod history;
mod hostile;
mod hostile_policy;
mod ignored;
mod linked_tools;
mod odd_names;
mod ops;
mod pages;
mod recovery;
mod shutdown;
mod signin;
mod tracking;
mod web_api;
