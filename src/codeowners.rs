//! CODEOWNERS (placeholder; being written).
