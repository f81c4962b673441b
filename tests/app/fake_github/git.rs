//! Git objects with real object ids: SHA-1 (hand-written: the crate has no SHA-1 dependency), blobs, trees and commits
//! encoded exactly as git encodes them, so blob, tree and commit shas match what `git hash-object` / GitHub report.

use std::collections::{BTreeMap, HashMap};

/// SHA-1 (FIPS 180-4). Only for computing git object ids of test data.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *hi = hi.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex object id")).collect()
}

/// The id of a git object of `kind` ("blob", "tree", "commit") with this content.
pub fn object_id(kind: &str, content: &[u8]) -> String {
    let mut data = format!("{kind} {}\0", content.len()).into_bytes();
    data.extend_from_slice(content);
    hex(&sha1(&data))
}

pub fn blob_sha(content: &[u8]) -> String {
    object_id("blob", content)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    Blob,
    Tree,
}

/// One entry of a stored tree.
#[derive(Clone, Debug)]
pub struct TreeEntry {
    pub name: String,
    pub kind: EntryKind,
    pub sha: String,
    /// Blob size in bytes (trees have none, as in GitHub's answer).
    pub size: Option<usize>,
}

impl TreeEntry {
    /// The mode as the REST API spells it.
    pub fn api_mode(&self) -> &'static str {
        match self.kind {
            EntryKind::Blob => "100644",
            EntryKind::Tree => "040000",
        }
    }
}

#[derive(Default)]
struct Dir {
    files: BTreeMap<String, Vec<u8>>,
    dirs: BTreeMap<String, Dir>,
}

/// Objects produced by [`build_tree`].
#[derive(Default)]
pub struct Objects {
    pub trees: HashMap<String, Vec<TreeEntry>>,
    pub blobs: HashMap<String, Vec<u8>>,
}

/// Builds the git trees (and blobs) for exactly these files; returns the root tree id.
pub fn build_tree(files: &[(&str, &str)], objects: &mut Objects) -> String {
    let mut root = Dir::default();
    for (path, content) in files {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        assert!(parts.iter().all(|p| !p.is_empty() && *p != "." && *p != ".."), "bad file path {path:?}");
        let mut dir = &mut root;
        for part in &parts[..parts.len() - 1] {
            dir = dir.dirs.entry(part.to_string()).or_default();
        }
        dir.files.insert(parts[parts.len() - 1].to_string(), content.as_bytes().to_vec());
    }
    write_dir(&root, objects)
}

fn write_dir(dir: &Dir, objects: &mut Objects) -> String {
    let mut entries = Vec::new();
    for (name, content) in &dir.files {
        let sha = blob_sha(content);
        objects.blobs.insert(sha.clone(), content.clone());
        entries.push(TreeEntry { name: name.clone(), kind: EntryKind::Blob, sha, size: Some(content.len()) });
    }
    for (name, sub) in &dir.dirs {
        let sha = write_dir(sub, objects);
        entries.push(TreeEntry { name: name.clone(), kind: EntryKind::Tree, sha, size: None });
    }
    // git orders entries by name, comparing a tree's name as if it ended in '/'.
    let key = |e: &TreeEntry| {
        let mut k = e.name.as_bytes().to_vec();
        if e.kind == EntryKind::Tree {
            k.push(b'/');
        }
        k
    };
    entries.sort_by_key(key);
    let mut content = Vec::new();
    for e in &entries {
        let mode = if e.kind == EntryKind::Tree { "40000" } else { "100644" };
        content.extend_from_slice(format!("{mode} {}\0", e.name).as_bytes());
        content.extend_from_slice(&unhex(&e.sha));
    }
    let sha = object_id("tree", &content);
    objects.trees.insert(sha.clone(), entries);
    sha
}

/// The id of a parentless commit of `tree`, authored at `timestamp` (seconds) with `message`.
pub fn commit_sha(tree: &str, timestamp: i64, message: &str) -> String {
    let who = format!("Shipshape Test <test@shipshape.invalid> {timestamp} +0000");
    let content = format!("tree {tree}\nauthor {who}\ncommitter {who}\n\n{message}\n");
    object_id("commit", content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(hex(&sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
        let long = "a".repeat(1000);
        assert_eq!(hex(&sha1(long.as_bytes())), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
    }

    #[test]
    fn git_object_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(blob_sha(b"hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
        // The empty tree.
        assert_eq!(object_id("tree", b""), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
        // `git write-tree` of a repo holding only README.md = "hello\n"
        let mut objects = Objects::default();
        let root = build_tree(&[("README.md", "hello\n")], &mut objects);
        assert_eq!(root, "853694aae8816094a0d875fee7ea26278dbf5d0f");
        // Nested directories and git's entry order ("a-b" < "a.txt" < "a/"), checked against `git write-tree`.
        let files = [
            ("README.md", "hello\n"),
            (".github/workflows/ci.yml", "x\n"),
            ("a.txt", "y\n"),
            ("a/b", "z\n"),
            ("a-b", "q"),
        ];
        let root = build_tree(&files, &mut objects);
        assert_eq!(root, "c72ca3f56c5e6f7d0ddc839e3d5d464ac8cfc524");
        let names: Vec<&str> = objects.trees[&root].iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, [".github", "README.md", "a-b", "a.txt", "a"]);
        assert_eq!(objects.trees[&root][0].sha, "9c8b271705c2782394a98e9c6bc62e4d54f3d473");
        // `git commit-tree` with the same author, committer, date and message.
        assert_eq!(
            commit_sha("853694aae8816094a0d875fee7ea26278dbf5d0f", 1_700_000_000, "commit 1"),
            "cba3ba3f05861cace0df1689f9b86ab1309ee412"
        );
    }
}
