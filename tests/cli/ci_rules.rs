//! The default scorecard's `ci` rule on realistic repositories: CI systems other than GitHub Actions count, empty or
//! placeholder configurations do not, and the evidence names the workflow that builds and tests rather than the first
//! one alphabetically. Plus the general `prefer` option of `query` checks it relies on.

use crate::support::{PolicyFile, Repo, evaluate_json, long_readme, message, rule, rule_result, status, statuses};
use serde_json::Value;

/// A committed repository `acme/<name>` with a README and these files.
fn repo_with(name: &str, files: &[(&str, &str)]) -> Repo {
    let repo = Repo::new(name);
    repo.write("README.md", &long_readme());
    for (path, content) in files {
        repo.write(path, content);
    }
    repo.commit("Initial import");
    repo
}

fn ci_of(files: &[(&str, &str)]) -> Value {
    let (_, card) = evaluate_json(&repo_with("payments", files), &[]);
    card
}

fn evidence_paths(card: &Value, id: &str) -> Vec<String> {
    rule_result(card, id)["evidence"]
        .as_array()
        .expect("evidence is an array")
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect()
}

const CIRCLECI: &str = "\
version: 2.1
orbs:
  go: circleci/go@1.11
jobs:
  test:
    docker:
      - image: cimg/go:1.22
    steps:
      - checkout
      - go/load-cache
      - run: go test ./...
      - go/save-cache
workflows:
  main:
    jobs:
      - test
";

const GITLAB: &str = "\
stages: [test, build]

variables:
  PIP_CACHE_DIR: \"$CI_PROJECT_DIR/.cache/pip\"

unit-tests:
  stage: test
  image: python:3.12
  script:
    - pip install -r requirements.txt
    - pytest -q
  rules:
    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"

docker-build:
  stage: build
  image: docker:24
  services: [docker:24-dind]
  script:
    - docker build -t $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA .
";

const JENKINSFILE: &str = "\
pipeline {
    agent { docker { image 'maven:3.9-eclipse-temurin-21' } }
    stages {
        stage('Build') {
            steps {
                sh 'mvn -B -DskipTests clean package'
            }
        }
        stage('Test') {
            steps {
                sh 'mvn test'
            }
            post {
                always { junit 'target/surefire-reports/*.xml' }
            }
        }
    }
}
";

#[test]
fn circleci_config_alone_passes_ci() {
    let card = ci_of(&[(".circleci/config.yml", CIRCLECI)]);
    assert_eq!(status(&card, "ci"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "ci"), "`.circleci/config.yml` passes the query");
    assert_eq!(evidence_paths(&card, "ci"), [".circleci/config.yml"]);
}

#[test]
fn gitlab_ci_config_alone_passes_ci() {
    let card = ci_of(&[(".gitlab-ci.yml", GITLAB)]);
    assert_eq!(status(&card, "ci"), "pass", "{}", statuses(&card));
    assert_eq!(evidence_paths(&card, "ci"), [".gitlab-ci.yml"]);
}

#[test]
fn a_jenkinsfile_alone_passes_ci() {
    let card = ci_of(&[("Jenkinsfile", JENKINSFILE)]);
    assert_eq!(status(&card, "ci"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "ci"), "`Jenkinsfile` line 1 matches /^[ \\t]*[^\\s/*]/");
    assert_eq!(evidence_paths(&card, "ci"), ["Jenkinsfile"]);
}

#[test]
fn other_ci_systems_pass_ci() {
    let buildkite = "steps:\n  - label: \":rust: test\"\n    command: cargo test --locked\n    plugins:\n      - docker#v5.10.0:\n          image: rust:1.88\n";
    let azure = "trigger: [main]\npr: [main]\npool:\n  vmImage: ubuntu-latest\nsteps:\n  - task: NodeTool@0\n    inputs: {versionSpec: '20.x'}\n  - script: npm ci && npm test\n    displayName: test\n";
    let cloudbuild = r#"{"steps": [{"name": "golang:1.22", "entrypoint": "go", "args": ["test", "./..."]}]}"#;
    let prow = "presubmits:\n  - name: pull-payments-unit\n    always_run: true\n    decorate: true\n    spec:\n      containers:\n        - image: golang:1.22\n          command: [make, test]\n";
    let travis = "language: ruby\nrvm: [3.3]\nscript: bundle exec rspec\n";
    let drone = "kind: pipeline\ntype: docker\nname: default\nsteps:\n  - name: test\n    image: node:20\n    commands: [npm ci, npm test]\n";
    let woodpecker =
        "steps:\n  test:\n    image: rust:1.88\n    commands: [cargo test]\nwhen:\n  event: [pull_request, push]\n";
    for (path, text) in [
        (".buildkite/pipeline.yml", buildkite),
        ("azure-pipelines.yml", azure),
        (".azure-pipelines/ci/build.yml", azure),
        ("cloudbuild.json", cloudbuild),
        (".prow.yaml", prow),
        (".prow/presubmits.yaml", prow),
        (".travis.yml", travis),
        (".drone.yml", drone),
        (".woodpecker.yml", woodpecker),
        (".woodpecker/test.yml", woodpecker),
    ] {
        let card = ci_of(&[(path, text)]);
        assert_eq!(status(&card, "ci"), "pass", "{path}: {}", statuses(&card));
        assert_eq!(evidence_paths(&card, "ci"), [path]);
    }
}

#[test]
fn placeholder_ci_configs_do_not_count() {
    let card = ci_of(&[
        (".gitlab-ci.yml", "# TODO: set up CI once the service builds\n"),
        (".circleci/config.yml", "version: 2.1\n"),
        ("Jenkinsfile", "// pipeline to come\n\n"),
    ]);
    assert_eq!(status(&card, "ci"), "fail", "{}", statuses(&card));
    let msg = message(&card, "ci");
    assert!(msg.starts_with("no file matches `.github/workflows/*.yml`, `.github/workflows/*.yaml`; "), "{msg}");
    assert!(msg.contains("`.circleci/config.yml`: `"), "{msg}");
    assert!(msg.contains("no file matching `Jenkinsfile`"), "{msg}");
}

#[test]
fn without_any_ci_the_remediation_names_what_was_looked_for() {
    let card = ci_of(&[("src/main.go", "package main\n\nfunc main() {}\n")]);
    assert_eq!(status(&card, "ci"), "fail", "{}", statuses(&card));
    let msg = message(&card, "ci");
    assert!(msg.contains("no file matches `.circleci/config.yml`, `.gitlab-ci.yml`"), "{msg}");
    let remediation = rule_result(&card, "ci")["remediation"].as_str().unwrap();
    for system in [
        ".github/workflows/",
        "CircleCI",
        "GitLab CI",
        "Jenkinsfile",
        "Buildkite",
        "Azure Pipelines",
        "Cloud Build",
        "Prow",
        "Travis",
        "Drone",
        "Woodpecker",
    ] {
        assert!(remediation.contains(system), "{system} missing from: {remediation}");
    }
}

const CODEQL: &str = "\
name: \"CodeQL\"
on:
  push:
    branches: [main]
  pull_request:
    branches: [main]
  schedule:
    - cron: '27 3 * * 1'
jobs:
  analyze:
    runs-on: ubuntu-latest
    permissions:
      security-events: write
    steps:
      - uses: actions/checkout@v4
      - uses: github/codeql-action/init@v3
        with:
          languages: go
      - uses: github/codeql-action/autobuild@v3
      - uses: github/codeql-action/analyze@v3
";

const LABELER: &str = "\
name: Pull Request Labeler
on: [pull_request_target]
jobs:
  labeler:
    permissions:
      contents: read
      pull-requests: write
    runs-on: ubuntu-latest
    steps:
      - uses: actions/labeler@v5
";

const TEST: &str = "\
on:
  pull_request:
  push:
    branches: [main]
jobs:
  unit:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with:
          go-version-file: go.mod
      - name: Vet
        run: go vet ./...
      - name: Test
        run: go test -race ./...
";

#[test]
fn evidence_names_the_workflow_that_tests_not_the_first_one() {
    let card = ci_of(&[
        (".github/workflows/codeql.yml", CODEQL),
        (".github/workflows/labeler.yml", LABELER),
        (".github/workflows/test.yml", TEST),
    ]);
    assert_eq!(status(&card, "ci"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "ci"), "`.github/workflows/test.yml` passes the query");
    assert_eq!(evidence_paths(&card, "ci"), [".github/workflows/test.yml"]);
}

#[test]
fn a_workflow_named_ci_is_preferred_to_a_scan() {
    let ci = "name: CI\non: pull_request\njobs:\n  all:\n    uses: acme/workflows/.github/workflows/service.yml@v3\n";
    let card = ci_of(&[(".github/workflows/codeql.yml", CODEQL), (".github/workflows/main.yml", ci)]);
    assert_eq!(evidence_paths(&card, "ci"), [".github/workflows/main.yml"]);
}

#[test]
fn with_only_a_scan_on_pull_requests_ci_still_passes_on_it() {
    let card = ci_of(&[(".github/workflows/codeql.yml", CODEQL), (".github/workflows/labeler.yml", LABELER)]);
    assert_eq!(status(&card, "ci"), "pass", "{}", statuses(&card));
    assert_eq!(evidence_paths(&card, "ci"), [".github/workflows/codeql.yml"]);
}

#[test]
fn prefer_ranks_passing_files_and_never_changes_the_status() {
    let policy = PolicyFile::new(&[
        rule(
            "deploys",
            "bronze",
            "{query: {files: [\"deploy/*.json\"], jq: '.replicas > 0', prefer: '.env == \"production\"'}}",
        ),
        rule(
            "all-deploys",
            "bronze",
            "{query: {files: [\"deploy/*.json\"], jq: '.replicas > 0', require: all, prefer: '.env == \"production\"'}}",
        ),
        rule(
            "none-preferred",
            "bronze",
            "{query: {files: [\"deploy/*.json\"], jq: '.replicas > 0', prefer: '.env == \"qa\"'}}",
        ),
    ]);
    let repo = repo_with(
        "payments",
        &[
            ("deploy/a-staging.json", r#"{"env": "staging", "replicas": 1}"#),
            ("deploy/b-production.json", r#"{"env": "production", "replicas": 3}"#),
        ],
    );
    let (_, card) = evaluate_json(&repo, &["--policy", &policy.arg()]);
    assert_eq!(status(&card, "deploys"), "pass");
    assert_eq!(message(&card, "deploys"), "`deploy/b-production.json` passes the query");
    assert_eq!(evidence_paths(&card, "all-deploys"), ["deploy/b-production.json", "deploy/a-staging.json"]);
    assert_eq!(evidence_paths(&card, "none-preferred"), ["deploy/a-staging.json"]);
}
