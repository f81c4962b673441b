//! Output formats (placeholder; being written).
