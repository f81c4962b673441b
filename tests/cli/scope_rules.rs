//! The default scorecard's scope rules end to end: tests kept next to the code count, an API is a contract of
//! operations (a proto of messages alone is not one).

use crate::support::{Repo, evaluate_json, message, payments_catalog, status, statuses};

const DATA_PROTO: &str = r#"syntax = "proto3";

package acme.payments.v1;

option go_package = "github.com/acme/payments/gen/paymentsv1";

message Charge {
  string id = 1;
  int64 amount_minor = 2;
}

enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_CAPTURED = 1;
}
"#;

const STORE_TEST: &str = r#"package store

import "testing"

func TestPut(t *testing.T) {
	if err := New().Put("k", "v"); err != nil {
		t.Fatal(err)
	}
}
"#;

#[test]
fn go_tests_under_internal_pass_and_a_proto_of_messages_is_no_api() {
    let repo = Repo::new("payments");
    repo.write("README.md", "# Payments\n")
        .write("go.mod", "module github.com/acme/payments\n\ngo 1.22\n")
        .write("internal/store/store.go", "package store\n")
        .write("internal/store/store_test.go", STORE_TEST)
        .write("proto/acme/payments/v1/charge.proto", DATA_PROTO);
    repo.commit("Store and messages");
    let catalog = payments_catalog();
    let args = ["--catalog", &catalog.arg(), "--as-of", "2025-06-01"];
    let (_, card) = evaluate_json(&repo, &args);
    assert_eq!(status(&card, "tests"), "pass", "{}", statuses(&card));
    assert_eq!(message(&card, "tests"), "found `internal/store/store_test.go`");
    assert_eq!(status(&card, "api-spec"), "fail", "{}", statuses(&card));
    assert!(message(&card, "api-spec").contains("no `.proto` file declares a `service`"), "{}", statuses(&card));

    repo.write(
        "proto/acme/payments/v1/api.proto",
        "syntax = \"proto3\";\npackage acme.payments.v1;\n\nservice Payments {\n  rpc Get(Charge) returns (Charge);\n}\n",
    );
    repo.commit("Payments service");
    let (_, card) = evaluate_json(&repo, &args);
    assert_eq!(status(&card, "api-spec"), "pass", "{}", statuses(&card));
}
