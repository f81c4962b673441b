//! Measures scoring a 10,000-file working tree (and the same tree at a commit, through git) with the embedded
//! default scorecard: one walk, the reads the policy needs, and the engine. Prints figures; asserts nothing about
//! time. Run with `cargo bench --bench evaluate`.

use shipshape::catalog::Service;
use shipshape::engine::{self, Subject};
use shipshape::facts::{self, LinkedFacts, ReadPlan};
use shipshape::policy::Policy;
use std::path::Path;
use std::time::{Duration, Instant};

const FILES: usize = 10_000;
const RUNS: usize = 30;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    build_tree(root);
    commit_all(root);

    let policy = Policy::embedded();
    let plan = ReadPlan::new(policy.read_globs.clone());
    let linked = LinkedFacts::none_configured();
    let today = chrono::Utc::now().date_naive();

    let probe = facts::collect_worktree(root, &plan).expect("collect");
    let read = probe.files.values().filter(|f| matches!(f.content, facts::Content::Text(_))).count();
    println!("tree: {} files, {} read for content rules", probe.files.len(), read);

    for (name, rev) in [("working tree", None), ("--rev HEAD (git2, no checkout)", Some("HEAD"))] {
        let mut collect = Vec::with_capacity(RUNS);
        let mut score = Vec::with_capacity(RUNS);
        let mut level = None;
        for _ in 0..RUNS {
            let start = Instant::now();
            let facts = match rev {
                Some(rev) => facts::collect_rev(root, rev, &plan),
                None => facts::collect_worktree(root, &plan),
            }
            .expect("collect");
            let collected = Instant::now();
            let service: Option<&Service> = None;
            let subject = Subject {
                repository: "bench/repo".into(),
                facts: &facts,
                linked: &linked,
                service,
                catalog_given: false,
                exceptions: Vec::new(),
                tier_override: None,
                today,
                jq_limits: shipshape::jq::Limits::REVIEWED,
            };
            let card = engine::evaluate(&policy, &subject);
            score.push(collected.elapsed());
            collect.push(collected - start);
            level = Some(card.level.clone());
        }
        let total: Vec<Duration> = collect.iter().zip(&score).map(|(a, b)| *a + *b).collect();
        println!(
            "{name}: total median {:.1} ms (min {:.1}, max {:.1}); collect median {:.1} ms; score median {:.1} ms; level {:?}",
            ms(median(&total)),
            ms(*total.iter().min().unwrap()),
            ms(*total.iter().max().unwrap()),
            ms(median(&collect)),
            ms(median(&score)),
            level.flatten(),
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

/// A service-shaped tree: sources in nested packages, tests, docs, manifests, workflows, and an ignored build dir.
fn build_tree(root: &Path) {
    let write = |path: &str, text: &str| {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    write("README.md", &"A payments service. ".repeat(40));
    write(".github/CODEOWNERS", "* @acme/payments\n/docs/ @acme/writers\n");
    write(".github/workflows/ci.yml", "on:\n  pull_request: {}\njobs:\n  test:\n    runs-on: ubuntu-latest\n");
    write(".gitignore", "/target\n");
    write("target/debug/big.o", "ignored");
    let source = "pub fn handler(request: Request) -> Response {\n    let amount = request.amount();\n    Response::ok(amount)\n}\n"
        .repeat(20);
    let mut n = 4; // the files above, less the ignored one
    let mut i = 0;
    while n < FILES {
        let package = i / 50;
        match i % 10 {
            0..=6 => write(&format!("src/pkg{package}/module{i}.rs"), &source),
            7 => write(&format!("tests/pkg{package}/case{i}_test.rs"), &source),
            8 => write(&format!("docs/pkg{package}/page{i}.md"), "# Page\nSome documentation.\n"),
            _ => write(&format!("deploy/pkg{package}/svc{i}.yaml"), "kind: Service\nmetadata:\n  name: x\n"),
        }
        n += 1;
        i += 1;
    }
}

fn commit_all(root: &Path) {
    let repo = git2::Repository::init(root).expect("git init");
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("bench", "bench@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "bench tree", &tree, &[]).unwrap();
}
