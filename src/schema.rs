//! JSON Schemas of the file formats, generated from the Rust types so they cannot drift. The copies under
//! `policies/schema/` are checked against these by the test suite.

use crate::catalog::model::{ExceptionFile, ServiceFile};
use crate::policy::model::PolicyFile;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    Policy,
    Service,
    Exception,
}

impl SchemaKind {
    pub const ALL: [SchemaKind; 3] = [SchemaKind::Policy, SchemaKind::Service, SchemaKind::Exception];

    /// The file name under `policies/schema/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaKind::Policy => "policy.schema.json",
            SchemaKind::Service => "service.schema.json",
            SchemaKind::Exception => "exception.schema.json",
        }
    }
}

/// The schema as pretty JSON with a trailing newline.
pub fn render(kind: SchemaKind) -> String {
    let schema = match kind {
        SchemaKind::Policy => schemars::schema_for!(PolicyFile),
        SchemaKind::Service => schemars::schema_for!(ServiceFile),
        SchemaKind::Exception => schemars::schema_for!(ExceptionFile),
    };
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped schema files are what the types generate; regenerate with
    /// `cargo run -- schema policy > policies/schema/policy.schema.json` (and service, exception).
    #[test]
    fn shipped_schemas_are_up_to_date() {
        for kind in SchemaKind::ALL {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/schema").join(kind.file_name());
            let shipped = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(shipped, render(kind), "{} is stale: regenerate it with `shipshape schema`", path.display());
        }
    }

    #[test]
    fn policy_schema_describes_check_kinds_and_closed_objects() {
        let schema: serde_json::Value = serde_json::from_str(&render(SchemaKind::Policy)).unwrap();
        let text = schema.to_string();
        for kind in [
            "file",
            "content",
            "query",
            "codeowners",
            "catalog",
            "branch_protection",
            "vulnerability_alerts",
            "oncall",
            "all",
            "any",
            "not",
        ] {
            assert!(text.contains(&format!("\"{kind}\"")), "check kind {kind} missing from the schema");
        }
        assert_eq!(schema["additionalProperties"], serde_json::json!(false), "unknown top-level keys are errors");
        let service: serde_json::Value = serde_json::from_str(&render(SchemaKind::Service)).unwrap();
        assert_ne!(service["additionalProperties"], serde_json::json!(false), "Backstage entities are open");
    }
}
