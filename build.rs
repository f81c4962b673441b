//! Build script: rebuild when a migration changes (sqlx::migrate!() embeds them), and record the commit the binary is
//! built from for `--version` (`SHIPSHAPE_COMMIT`, "unknown" outside a git checkout, e.g. from a crate tarball).

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rustc-env=SHIPSHAPE_COMMIT={}", commit().unwrap_or_else(|| "unknown".into()));
}

/// The short id of HEAD; rebuilt when HEAD or the branch it is on moves.
fn commit() -> Option<String> {
    let git_dir = run(&["rev-parse", "--git-dir"])?;
    let git_dir = Path::new(&git_dir);
    for watched in ["HEAD", "packed-refs"] {
        println!("cargo:rerun-if-changed={}", git_dir.join(watched).display());
    }
    if let Some(head_ref) = run(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo:rerun-if-changed={}", git_dir.join(head_ref).display());
    }
    run(&["rev-parse", "--short=12", "HEAD"])
}

fn run(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}
