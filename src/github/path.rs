//! Request paths built from payload data: every segment percent-encoded, so that an owner, repository, branch,
//! tag, file path or label holding `?`, `#`, `%`, spaces or a `..` reaches GitHub as the segment it is, never as a
//! query, a fragment or a step up the path.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Encoded in a segment: everything but RFC 3986's unreserved characters (letters, digits, `-`, `.`, `_`, `~`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// One path segment (a login, a repository name, a label) or query value, percent-encoded; `/` too, and `.` and
/// `..` in full, which would otherwise be dot segments.
pub fn segment(s: &str) -> String {
    match s {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => utf8_percent_encode(s, SEGMENT).to_string(),
    }
}

/// A `/`-separated name (a branch, a tag, a file path): each part encoded as a [`segment`], the slashes kept
/// (GitHub's ref, branch and contents endpoints take them).
pub fn segments(s: &str) -> String {
    s.split('/').map(segment).collect::<Vec<_>>().join("/")
}

/// `/repos/{owner}/{repo}` for `owner/name`, each part a [`segment`] (a `/` in the name is encoded).
pub fn repo_api(full_name: &str) -> String {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, ""));
    format!("/repos/{}/{}", segment(owner), segment(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("feature/x y"), "feature%2Fx%20y");
        assert_eq!(segment("a?b#c%d"), "a%3Fb%23c%25d");
        assert_eq!(segment("my-repo_1.x~"), "my-repo_1.x~");
        assert_eq!((segment("."), segment(".."), segment("...")), ("%2E".into(), "%2E%2E".into(), "...".into()));
        assert_eq!(segment("ünï"), "%C3%BCn%C3%AF");
    }

    #[test]
    fn names_with_slashes_keep_them_between_encoded_parts() {
        assert_eq!(segments("release/50% off #2"), "release/50%25%20off%20%232");
        assert_eq!(segments("a/../b"), "a/%2E%2E/b");
        assert_eq!(segments("docs/run book?.md"), "docs/run%20book%3F.md");
    }

    #[test]
    fn repository_paths_encode_owner_and_name() {
        assert_eq!(repo_api("acme/payments"), "/repos/acme/payments");
        assert_eq!(repo_api("acme/pay ments?x#y"), "/repos/acme/pay%20ments%3Fx%23y");
        assert_eq!(repo_api("acme/.."), "/repos/acme/%2E%2E");
        assert_eq!(repo_api("acme/a/b"), "/repos/acme/a%2Fb");
    }
}
