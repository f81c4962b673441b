//! `private_keys`: committed private keys, judged by content.
//!
//! A `-----BEGIN … PRIVATE KEY-----` block counts only when its body decodes to something shaped like a key: a DER
//! SEQUENCE whose length is exactly the decoded length (PKCS#1, PKCS#8, SEC1, encrypted PKCS#8), an
//! `openssh-key-v1` blob, an OpenPGP packet, or the ciphertext of a legacy encrypted PEM. Certificates, public keys,
//! certificate requests and parameters are not secrets; placeholders (`xxxx`, `...`, `<your key>`) and blocks with
//! no END line do not decode to a key. Key stores (`.p12`, `.jks`…) are binary and count by name.

use super::{Ctx, Outcome};
use crate::diag::shown_path as shown;
use crate::facts::Content;
use crate::policy::KeysSpec;
use base64::Engine;
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// Most keys named in a message.
const NAMED: usize = 5;

static MARKER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-----(BEGIN|END) ([A-Z0-9]+(?: [A-Z0-9]+)*)-----").expect("valid regex"));

/// A private key found in a file: the line of its BEGIN marker and its label (`RSA PRIVATE KEY`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub line: usize,
    pub label: String,
}

/// What one file's PEM blocks are.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    pub keys: Vec<Found>,
    /// Certificates, public keys, requests, parameters.
    pub public: usize,
    /// Private-key blocks whose body is not a key, or that have no END line.
    pub placeholders: usize,
}

fn is_private(label: &str) -> bool {
    label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK")
}

/// The PEM blocks of `text`, in one pass over its BEGIN and END markers (a BEGIN is closed by the next marker only).
pub fn scan(text: &str) -> Scan {
    let mut scan = Scan::default();
    let (mut line, mut counted_to) = (1, 0);
    let mut open: Option<(usize, &str, usize)> = None;
    for marker in MARKER.captures_iter(text) {
        let whole = marker.get(0).expect("match");
        line += text.as_bytes()[counted_to..whole.start()].iter().filter(|&&b| b == b'\n').count();
        counted_to = whole.start();
        let label = marker.get(2).expect("label").as_str();
        let closing = &marker[1] == "END";
        match open.take() {
            Some((body, begun, at)) if closing && begun == label => scan.judge(label, &text[body..whole.start()], at),
            Some((_, begun, _)) => scan.unclosed(begun),
            None => {}
        }
        if !closing {
            open = Some((whole.end(), label, line));
        }
    }
    if let Some((_, begun, _)) = open {
        scan.unclosed(begun);
    }
    scan
}

impl Scan {
    fn unclosed(&mut self, label: &str) {
        if is_private(label) { self.placeholders += 1 } else { self.public += 1 }
    }

    fn judge(&mut self, label: &str, body: &str, line: usize) {
        if !is_private(label) {
            self.public += 1;
        } else if looks_like_key(label, body) {
            self.keys.push(Found { line, label: label.to_string() });
        } else {
            self.placeholders += 1;
        }
    }
}

/// Whether a private-key block's body decodes to a key. The body may sit in a YAML block scalar (indented), a
/// JSON string (`\n` escapes, quotes) or a comment (`#`, `//`, `*`).
fn looks_like_key(label: &str, body: &str) -> bool {
    let pgp = label.starts_with("PGP ");
    let mut encrypted_pem = false;
    let mut base64 = String::new();
    for raw in body.split('\n').flat_map(|l| l.split("\\n")) {
        let line = raw.trim().trim_start_matches(['#', ';', '*']).trim_start_matches("// ");
        let line = line.trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '\\' | ';'));
        if line.is_empty() {
            continue;
        }
        // PEM and armor headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: …`, `Version: …`), the armor's checksum.
        if line.contains(':') {
            encrypted_pem |= line.starts_with("Proc-Type:") && line.contains("ENCRYPTED");
            continue;
        }
        if pgp && line.starts_with('=') {
            continue;
        }
        base64.push_str(line);
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT.decode(base64.as_bytes()) else {
        return false;
    };
    if label == "OPENSSH PRIVATE KEY" {
        return bytes.len() >= 64 && bytes.starts_with(b"openssh-key-v1\0");
    }
    if pgp {
        return bytes.len() >= 64 && bytes[0] & 0x80 != 0;
    }
    if encrypted_pem {
        return bytes.len() >= 64 && bytes.len() % 8 == 0;
    }
    der_key(&bytes)
}

/// A DER SEQUENCE that is exactly the decoded bytes, starts with an INTEGER (a version) or a SEQUENCE (an algorithm),
/// and holds at least 30 bytes (an Ed25519 PKCS#8 key holds 46).
fn der_key(bytes: &[u8]) -> bool {
    let byte = |i: usize| bytes.get(i).map(|&b| usize::from(b));
    let shape = || -> Option<bool> {
        if byte(0)? != 0x30 {
            return Some(false);
        }
        let (len, header) = match byte(1)? {
            n if n < 0x80 => (n, 2),
            0x81 => (byte(2)?, 3),
            0x82 => (byte(2)? << 8 | byte(3)?, 4),
            0x83 => (byte(2)? << 16 | byte(3)? << 8 | byte(4)?, 5),
            _ => return Some(false),
        };
        Some(header + len == bytes.len() && len >= 30 && matches!(byte(header)?, 0x02 | 0x30))
    };
    shape().unwrap_or(false)
}

/// Whether `path` lies under a directory named like a test fixture directory (a name, or a name with a leading or
/// trailing `*`: `test*` is `testdata/` and `testResources/`, `*testing` is `skptesting/`), regardless of case.
fn in_fixture(path: &str, dirs: &[String]) -> bool {
    let parents = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    parents.split('/').any(|segment| dirs.iter().any(|d| name_matches(d, segment)))
}

fn name_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        (Some(suffix), _) => name.ends_with(suffix),
        (None, Some(prefix)) => name.starts_with(prefix),
        (None, None) => name == pattern,
    }
}

/// A key for messages and evidence.
struct Hit<'a> {
    path: &'a str,
    line: Option<usize>,
    what: String,
}

fn listed(hits: &[Hit<'_>]) -> String {
    let mut text = hits
        .iter()
        .take(NAMED)
        .map(|h| match h.line {
            Some(line) => format!("`{}` line {line} ({})", shown(h.path), h.what),
            None => format!("`{}` ({})", shown(h.path), h.what),
        })
        .collect::<Vec<_>>()
        .join(", ");
    if hits.len() > NAMED {
        text += &format!(" and {} more", hits.len() - NAMED);
    }
    text
}

impl Ctx<'_> {
    pub(super) fn private_keys(&self, spec: &KeysSpec) -> Outcome {
        let stores = self.files(&spec.stores);
        let mut hits: Vec<Hit<'_>> =
            stores.iter().map(|&path| Hit { path, line: None, what: "key store, judged by its name".into() }).collect();
        let (mut read, mut unread, mut public, mut placeholders) = (0, 0, 0, 0);
        let files: BTreeSet<&str> = self.files(&spec.files).into_iter().filter(|p| !stores.contains(p)).collect();
        for path in files {
            let Some(Content::Text(text)) = self.subject.facts.files.get(path).map(|f| &f.content) else {
                unread += 1;
                continue;
            };
            read += 1;
            let scan = scan(text);
            public += scan.public;
            placeholders += scan.placeholders;
            hits.extend(scan.keys.into_iter().map(|k| Hit { path, line: Some(k.line), what: k.label }));
        }
        let (fixtures, counted): (Vec<Hit<'_>>, Vec<Hit<'_>>) =
            hits.into_iter().partition(|h| !spec.fixtures_fail && in_fixture(h.path, &spec.fixture_dirs));
        let mut notes = Vec::new();
        if !fixtures.is_empty() {
            notes.push(format!("in test fixtures (reported, not failing): {}", listed(&fixtures)));
        }
        let not_counted: Vec<String> = [
            (public, "certificate or public-key block(s)"),
            (placeholders, "placeholder or incomplete private-key block(s)"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if !not_counted.is_empty() {
            notes.push(format!("not counted: {}", not_counted.join(", ")));
        }
        if unread > 0 {
            notes.push(format!("{unread} large or binary file(s) not read"));
        }
        let notes = if notes.is_empty() { String::new() } else { format!("; {}", notes.join("; ")) };
        let (message, evidence, pass) = if counted.is_empty() {
            (format!("no private key in {read} file(s) read{notes}"), fixtures, true)
        } else {
            (format!("{} private key(s) committed: {}{notes}", counted.len(), listed(&counted)), counted, false)
        };
        let mut outcome = if pass { Outcome::pass(message) } else { Outcome::fail(message) };
        for hit in evidence {
            outcome = outcome.at(hit.path, hit.line);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_must_match_exactly() {
        let mut key = vec![0x30, 0x2e, 0x02, 0x01, 0x00];
        key.resize(48, 0x04);
        assert!(der_key(&key));
        assert!(!der_key(&key[..47]), "truncated");
        key.push(0);
        assert!(!der_key(&key), "trailing bytes");
        assert!(!der_key(&[0x30, 0x82]), "a header alone");
    }

    #[test]
    fn fixture_directories_are_path_segments() {
        let dirs = vec!["test".to_string(), "testdata".to_string()];
        assert!(in_fixture("src/test/resources/server.key", &dirs));
        assert!(!in_fixture("filters/opa/testResources/key.pem", &dirs), "exact names");
        assert!(in_fixture("testdata/key.pem", &dirs));
        assert!(!in_fixture("test.pem", &dirs), "the file name itself is not a directory");
        assert!(!in_fixture("contest/key.pem", &dirs));
        // The defaults: a leading or trailing `*`.
        let dirs = crate::policy::model::PrivateKeysCheck::default_fixture_dirs();
        assert!(in_fixture("filters/opa/testResources/key.pem", &dirs));
        assert!(in_fixture("skptesting/key.pem", &dirs));
        assert!(in_fixture("pkg/tls/tls_test/server.key", &dirs));
        assert!(!in_fixture("deploy/latest/key.pem", &dirs));
    }
}
