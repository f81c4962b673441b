//! Measures what a jq evaluation costs: in this process (metered, on a thread of its own) and through the sandbox's
//! worker processes (the way `shipshape` runs every policy), on a GitHub Actions workflow as a `query` check reads
//! it. Prints per-evaluation medians; asserts nothing about time. Run with `cargo bench --bench jq`.

use serde_json::json;
use shipshape::jq::{Jq, Limits};
use std::time::{Duration, Instant};

const RUNS: usize = 2_000;

fn main() {
    let workflow = json!({
        "name": "ci",
        "on": {"pull_request": {"branches": ["main"]}, "push": {"branches": ["main"]}},
        "jobs": {
            "test": {"runs-on": "ubuntu-latest", "steps": [{"uses": "actions/checkout@v4"}, {"run": "cargo test"}]},
            "deploy": {"environment": "production", "needs": "test", "steps": [{"run": "./deploy.sh"}]}
        }
    });
    let jq = Jq::compile(
        ".on | if type == \"object\" then has(\"pull_request\") elif type == \"array\" then any(.[]; . == \
         \"pull_request\") else . == \"pull_request\" end",
    )
    .unwrap();
    let limits = Limits::REVIEWED;
    let here = measure(|| assert!(jq.test(&workflow, &limits).unwrap()));
    shipshape::jq::use_sandbox(env!("CARGO_BIN_EXE_shipshape").into());
    let started = Instant::now();
    assert!(jq.test(&workflow, &limits).unwrap());
    let first = started.elapsed();
    let sandboxed = measure(|| assert!(jq.test(&workflow, &limits).unwrap()));
    println!("jq evaluation of a CI workflow query, {RUNS} runs each:");
    println!("  in process (metered, own thread): median {:?}", here);
    println!("  sandboxed, first (starts a worker): {:?}", first);
    println!("  sandboxed (worker kept): median {:?}", sandboxed);
}

fn measure(mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}
