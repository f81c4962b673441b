//! What the default scorecard's `api-spec`, `runbook`, `tests` and `deployment-pipeline` rules count: an API by
//! its contract (a proto `service`, a GraphQL server's schema), runbooks kept in docs sites, tests wherever the
//! language keeps them, deployments by what a workflow job does.

use super::*;

fn embedded_card(files: &[(&str, &str)]) -> Scorecard {
    let p = Policy::embedded();
    let mut run = Run::new(&p, repo(files));
    run.service = Some(service(Some(1)));
    run.card()
}

fn outcome(files: &[(&str, &str)], id: &str) -> (Status, String) {
    let card = embedded_card(files);
    let r = card.rule(id).unwrap();
    (r.status, r.message.clone())
}

const DATA_PROTO: &str = r#"syntax = "proto3";

package acme.payments.v1;

option go_package = "github.com/acme/payments/gen/paymentsv1";
option java_multiple_files = true;

// Charges are created by the checkout service { see checkout.proto }.
message Charge {
  string id = 1;
  int64 amount_minor = 2;
  string currency = 3;
  Status status = 4;
}

enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_CAPTURED = 1;
  STATUS_REFUNDED = 2;
}
"#;

const SERVICE_PROTO: &str = r#"syntax = "proto3";

package acme.payments.v1;

import "acme/payments/v1/charge.proto";

message ChargeRequest {
  int64 amount_minor = 1;
  string currency = 2;
}

service Payments {
  rpc Charge(ChargeRequest) returns (acme.payments.v1.Charge);
}
"#;

const SCHEMA: &str = r#""""A customer of the shop."""
type User {
  id: ID!
  name: String!
  orders: [Order!]!
}

type Order {
  id: ID!
  total: Int!
}

type Query {
  user(id: ID!): User
}

type Mutation {
  cancelOrder(id: ID!): Order
}
"#;

const OPERATIONS: &str = r#"fragment OrderParts on Order {
  id
  total
}

query GetUser($id: ID!) {
  user(id: $id) {
    name
    orders { ...OrderParts }
  }
}
"#;

const CLIENT_PACKAGE: &str = r#"{
  "name": "shop-web",
  "dependencies": {
    "@apollo/client": "^3.9.0",
    "graphql": "^16.8.1",
    "react": "^18.2.0"
  },
  "devDependencies": {
    "@graphql-codegen/cli": "^5.0.0"
  }
}
"#;

const SERVER_PACKAGE: &str = r#"{
  "name": "shop-api",
  "dependencies": {
    "@apollo/server": "^4.10.0",
    "graphql": "^16.8.1"
  }
}
"#;

#[test]
fn api_spec_counts_a_proto_only_when_it_declares_a_service() {
    let (status, message) = outcome(&[("proto/acme/payments/v1/charge.proto", DATA_PROTO)], "api-spec");
    assert_eq!(status, Status::Fail, "{message}");
    assert!(message.contains("no `.proto` file declares a `service`"), "{message}");
    assert!(message.contains("no GraphQL schema"), "{message}");
    let files =
        [("proto/acme/payments/v1/charge.proto", DATA_PROTO), ("proto/acme/payments/v1/api.proto", SERVICE_PROTO)];
    let (status, message) = outcome(&files, "api-spec");
    assert_eq!(status, Status::Pass, "{message}");
    assert!(message.contains("`proto/acme/payments/v1/api.proto` line 12"), "{message}");
    assert_eq!(outcome(&[("openapi.yaml", "openapi: 3.0.3\n")], "api-spec").0, Status::Pass);
}

#[test]
fn api_spec_counts_a_graphql_schema_only_of_a_server() {
    let client = [("web/schema.graphql", SCHEMA), ("web/package.json", CLIENT_PACKAGE)];
    let (status, message) = outcome(&client, "api-spec");
    assert_eq!(status, Status::Fail, "{message}");
    assert!(message.contains("no manifest depends on a GraphQL server library"), "{message}");
    let server = [("schema.graphql", SCHEMA), ("package.json", SERVER_PACKAGE)];
    let (status, message) = outcome(&server, "api-spec");
    assert_eq!(status, Status::Pass, "{message}");
    let operations = [("src/graphql/user.graphql", OPERATIONS), ("package.json", SERVER_PACKAGE)];
    let (status, message) = outcome(&operations, "api-spec");
    assert_eq!(status, Status::Fail, "{message}");
    assert!(message.contains("no GraphQL schema (a `.graphql`"), "{message}");
    let gqlgen = "module github.com/acme/shop\n\ngo 1.22\n\nrequire (\n\tgithub.com/99designs/gqlgen v0.17.45\n)\n";
    assert_eq!(outcome(&[("graph/schema.graphqls", SCHEMA), ("go.mod", gqlgen)], "api-spec").0, Status::Pass);
    let indirect = "module github.com/acme/shop\n\nrequire github.com/99designs/gqlgen v0.17.45 // indirect\n";
    assert_eq!(outcome(&[("graph/schema.graphqls", SCHEMA), ("go.mod", indirect)], "api-spec").0, Status::Fail);
    let gem = "source \"https://rubygems.org\"\n\ngem \"rails\", \"~> 7.1\"\ngem \"graphql\", \"~> 2.2\"\n";
    assert_eq!(outcome(&[("app/graphql/schema.graphql", SCHEMA), ("Gemfile", gem)], "api-spec").0, Status::Pass);
    let client_gem = "gem \"graphql-client\"\n";
    assert_eq!(outcome(&[("schema.graphql", SCHEMA), ("Gemfile", client_gem)], "api-spec").0, Status::Fail);
}

#[test]
fn runbook_counts_operator_and_troubleshooting_guides_of_a_docs_site() {
    let page = "# Upgrading\n\nDrain the workers before upgrading.\n";
    for path in [
        "docs/content/operations/upgrading.md",
        "docs/src/troubleshooting.md",
        "site/content/en/docs/operator-guide.md",
        "website/docs/operations.mdx",
        "docs/ops/restore.rst",
        "RUNBOOK.md",
        "ops/runbook-payments.md",
    ] {
        let (status, message) = outcome(&[(path, page)], "runbook");
        assert_eq!(status, Status::Pass, "{path}: {message}");
    }
    for path in ["docs/getting-started.md", "docs/reference/operators.md", "docs/operations.png"] {
        let (status, message) = outcome(&[("README.md", page), (path, page)], "runbook");
        assert_eq!(status, Status::Fail, "{path}: {message}");
    }
}

const RUST_WITH_TESTS: &str = r#"pub fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(1, 2), 3);
    }
}
"#;

#[test]
fn tests_count_wherever_the_language_keeps_them() {
    for (path, text) in [
        ("pkg/server/handler_test.go", "package server\n"),
        ("app/tests/test_api.py", "def test_health():\n    pass\n"),
        ("web/src/App.test.tsx", "it('renders', () => {});\n"),
        ("services/api/src/test/java/com/acme/ApiTest.java", "class ApiTest {}\n"),
        ("crates/core/src/lib.rs", RUST_WITH_TESTS),
        ("src/client.rs", "#[tokio::test(flavor = \"multi_thread\")]\nasync fn connects() {}\n"),
    ] {
        let (status, message) = outcome(&[("src/main.rs", "fn main() {}\n"), (path, text)], "tests");
        assert_eq!(status, Status::Pass, "{path}: {message}");
    }
    let none = [
        (
            "src/lib.rs",
            "/// Adds. Not a test: `#[test]` in a doc comment.\npub fn add(a: u32, b: u32) -> u32 { a + b }\n",
        ),
        ("packaging/foo.spec", "Name: foo\nVersion: 1.0\n"),
    ];
    let (status, message) = outcome(&none, "tests");
    assert_eq!(status, Status::Fail, "{message}");
    assert!(message.contains("no Rust file under `src/` has a `#[test]`"), "{message}");
}

fn workflow(jobs: &str) -> String {
    format!("name: cd\non:\n  push:\n    branches: [main]\njobs:\n{jobs}")
}

#[test]
fn deployment_counts_jobs_that_deploy_and_helm_charts_anywhere() {
    let chart = "apiVersion: v2\nname: payments\nversion: 0.1.0\n";
    assert_eq!(outcome(&[("infra/helm/payments/Chart.yaml", chart)], "deployment-pipeline").0, Status::Pass);
    assert_eq!(outcome(&[("deploy/helm/payments/Chart.yaml", chart)], "deployment-pipeline").0, Status::Pass);
    for jobs in [
        "  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      \
         - uses: google-github-actions/get-gke-credentials@v2\n        with: {cluster_name: prod, location: eu}\n      \
         - run: kubectl apply -f k8s/\n",
        "  release:\n    runs-on: ubuntu-latest\n    steps:\n      - name: Deploy\n        run: |\n          \
         helm dependency build chart\n          helm upgrade --install payments ./chart --wait\n",
        "  ship:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: azure/k8s-deploy@v5\n        \
         with: {manifests: manifests/deployment.yml}\n",
        "  release:\n    runs-on: ubuntu-latest\n    environment: production\n    steps:\n      \
         - run: ./scripts/release.sh\n",
        "  prod:\n    uses: acme/workflows/.github/workflows/deploy-service.yml@main\n",
    ] {
        let files = [(".github/workflows/cd.yml", workflow(jobs))];
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let (status, message) = outcome(&files, "deployment-pipeline");
        assert_eq!(status, Status::Pass, "{jobs}: {message}");
    }
}

#[test]
fn deployment_does_not_count_test_environments_github_pages_or_throwaway_clusters() {
    for jobs in [
        "  integration:\n    runs-on: ubuntu-latest\n    environment: integration-tests\n    steps:\n      \
         - uses: actions/checkout@v4\n      - run: go test ./...\n",
        "  smoke:\n    runs-on: ubuntu-latest\n    environment: {name: staging}\n    steps:\n      \
         - uses: actions/checkout@v4\n      - run: npm test\n",
        "  deploy:\n    runs-on: ubuntu-latest\n    environment:\n      name: github-pages\n      \
         url: ${{ steps.deployment.outputs.page_url }}\n    steps:\n      - id: deployment\n        \
         uses: actions/deploy-pages@v4\n",
        "  e2e:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: helm/kind-action@v1\n      \
         - run: helm upgrade --install payments ./chart && kubectl rollout status deploy/payments\n",
    ] {
        let files = [(".github/workflows/cd.yml", workflow(jobs))];
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let (status, message) = outcome(&files, "deployment-pipeline");
        assert_eq!(status, Status::Fail, "{jobs}: {message}");
        assert!(message.starts_with("no GitHub Actions job deploys (looked for a deploy action"), "{message}");
    }
}
