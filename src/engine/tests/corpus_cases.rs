//! Verdicts the labelled corpus (tests/corpus) found wrong, on fixtures shaped like the repositories that showed
//! them: example apps taken for the service, runbooks known by their title or an administration guide, deployment
//! platforms and CD servers outside GitHub Actions, secrets in an environment file named for them.

use super::*;

fn outcome(files: &[(&str, &str)], id: &str) -> (Status, String) {
    let p = Policy::embedded();
    let mut run = Run::new(&p, repo(files));
    run.service = Some(service(Some(1)));
    let card = run.card();
    let r = card.rule(id).unwrap();
    (r.status, r.message.clone())
}

const EXAMPLE_PROTO: &str = "syntax = \"proto3\";\npackage driver;\n\nservice DriverService {\n  rpc FindNearest(DriverLocationRequest) returns (DriverLocationResponse);\n}\n";

#[test]
fn an_example_apps_proto_is_not_the_services_api() {
    // A tracing backend whose repository carries a demo application under `examples/` (jaeger's HotROD).
    let files =
        [("cmd/collector/main.go", "package main\n"), ("examples/hotrod/services/driver/driver.proto", EXAMPLE_PROTO)];
    let (status, message) = outcome(&files, "api-spec");
    assert_eq!(status, Status::Fail, "{message}");
    assert!(
        message.contains(
            "left out as vendored, generated or example code: `examples/hotrod/services/driver/driver.proto` (under `**/examples/**`)"
        ),
        "{message}"
    );
    // The same proto as the service's own counts.
    let own = [("api/driver.proto", EXAMPLE_PROTO)];
    assert_eq!(outcome(&own, "api-spec").0, Status::Pass);
}

#[test]
fn a_document_titled_as_a_runbook_is_one() {
    let rotation = "# SAML SP Key Rotation Runbook\n\nZero-downtime rotation of the signing key.\n\n## Steps\n1. Generate a new key.\n";
    assert_eq!(outcome(&[("docs/saml_key_rotation.md", rotation)], "runbook").0, Status::Pass);
    let dlq = "---\ntitle: DLQ\n---\n<!-- generated toc -->\n# Operating the Dead Letter Queue (DLQ)\n\nWhen a task fails terminally…\n";
    assert_eq!(outcome(&[("docs/admin/dlq.md", dlq)], "runbook").0, Status::Pass);
    let handbook = "# Administrator's guide\n\nBackups, upgrades and replication.\n";
    assert_eq!(outcome(&[("HANDBOOK.md", handbook)], "runbook").0, Status::Pass);
}

#[test]
fn other_documents_are_not_runbooks_whatever_they_mention() {
    let files = [
        ("docs/getting-started.md", "# Getting started\n\nSee the runbook in the wiki for operating the service.\n"),
        ("docs/requirements.md", "# Operating system support\n\nLinux and macOS.\n"),
        ("docs/api/chats.md", "# Chats API\n\n## Operations\n\nCreate, list and delete chats.\n"),
        // A title deeper in a file is not its title; a file outside docs and the root is not read for it.
        ("docs/intro.md", "Some prose first.\n\n# Troubleshooting\n"),
        ("src/views/runbook_page.tsx", "export const RunbookPage = () => null;\n"),
        ("app/templates/ops.md", "# Runbook\n"),
    ];
    let (status, message) = outcome(&files, "runbook");
    assert_eq!(status, Status::Fail, "{message}");
    assert!(message.contains("no Markdown document's title names a runbook"), "{message}");
}

#[test]
fn an_administration_guide_in_a_docs_site_is_a_runbook() {
    // netbox: docs/administration/ holds replication, error reporting and management commands.
    let files = [("docs/administration/replicating-netbox.md", "# Replicating NetBox\n\nCopy the database…\n")];
    assert_eq!(outcome(&files, "runbook").0, Status::Pass);
}

#[test]
fn deployment_platforms_and_cd_servers_count_as_a_pipeline() {
    let none = [("README.md", "# app\n"), ("Dockerfile", "FROM node:22\n")];
    assert_eq!(outcome(&none, "deployment-pipeline").0, Status::Fail);
    for (path, text) in [
        ("netlify.toml", "[build]\n  command = \"pnpm build\"\n"),
        ("vercel.json", "{\"framework\": \"nextjs\"}\n"),
        ("render.yaml", "services:\n  - type: web\n    name: app\n"),
        ("gocd/pipelines/snuba-py.yaml", "format_version: 10\npipelines: {}\n"),
        ("deploy.gocd.yaml", "format_version: 10\n"),
        (
            "app.json",
            "{\"name\": \"umami\", \"buildpacks\": [{\"url\": \"heroku/nodejs\"}], \"addons\": [\"heroku-postgresql\"]}\n",
        ),
    ] {
        let files = [none[0], none[1], (path, text)];
        let (status, message) = outcome(&files, "deployment-pipeline");
        assert_eq!(status, Status::Pass, "{path}: {message}");
    }
    // Expo's app.json is not a Heroku manifest.
    let expo = [none[0], none[1], ("app.json", "{\"expo\": {\"name\": \"mobile\", \"slug\": \"mobile\"}}\n")];
    assert_eq!(outcome(&expo, "deployment-pipeline").0, Status::Fail);
}

#[test]
fn an_environment_file_named_for_secrets_is_committed_secrets() {
    let token = "APP_SECRET_TOKEN=3bd139f9186b31a85336bb89cd1a1337078921134b2f48e022fd09c2\n";
    for path in ["docker/secrets.env", "deploy/DB-Credentials.env", "web/.env.local"] {
        let (status, message) = outcome(&[(path, token)], "no-committed-secrets");
        assert_eq!(status, Status::Fail, "{path}: {message}");
        assert!(message.contains(path), "{path}: {message}");
    }
    for path in [".env.example", "docker/.env.sample", "config/app.env", ".env.test"] {
        let (status, message) = outcome(&[(path, "PORT=3000\n")], "no-committed-secrets");
        assert_eq!(status, Status::Pass, "{path}: {message}");
    }
}
