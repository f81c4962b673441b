//! The catalog (placeholder).
