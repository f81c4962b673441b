//! Where GitHub's published fixtures are: `$SHIPSHAPE_FIXTURES`, else `../shared/fixtures` beside the crate. Tests
//! that need them fail when they are missing (included with `#[path]` by the test crates).

use std::path::PathBuf;

pub fn fixtures_dir() -> PathBuf {
    let dir = std::env::var_os("SHIPSHAPE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"));
    assert!(
        dir.join("github-webhooks").is_dir(),
        "GitHub fixtures not found at {} (set SHIPSHAPE_FIXTURES); these tests need them",
        dir.display()
    );
    dir
}
