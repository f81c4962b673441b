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
