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
    /// The mode as the REST API spells it: `100644`, `100755` or `120000` for blobs, `040000` for trees.
    pub mode: String,
}

impl TreeEntry {
    /// The mode as the REST API spells it.
    pub fn api_mode(&self) -> &str {
        &self.mode
    }
}

/// A file of a flattened tree: its mode (`100644`, `100755`, `120000`) and blob id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlatFile {
    pub mode: String,
    pub sha: String,
}

/// Every file under a tree by its full path (`a/b/c.txt`); directories are implied by the paths.
pub type Flat = BTreeMap<String, FlatFile>;

#[derive(Default)]
struct Dir {
    files: BTreeMap<String, FlatFile>,
    dirs: BTreeMap<String, Dir>,
}

/// Git objects of a repository: trees (as their entries) and blobs (as their bytes).
#[derive(Default)]
pub struct Objects {
    pub trees: HashMap<String, Vec<TreeEntry>>,
    pub blobs: HashMap<String, Vec<u8>>,
}

impl Objects {
    /// Stores a blob; returns its id.
    pub fn add_blob(&mut self, content: &[u8]) -> String {
        let sha = blob_sha(content);
        self.blobs.insert(sha.clone(), content.to_vec());
        sha
    }
}

/// Whether `path` is a relative path git accepts: no empty, `.` or `..` components, no `.git`.
pub fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|p| !p.is_empty() && p != "." && p != ".." && !p.eq_ignore_ascii_case(".git"))
}

/// Builds the git trees (and blobs) for exactly these files; returns the root tree id.
pub fn build_tree(files: &[(&str, &str)], objects: &mut Objects) -> String {
    let mut flat = Flat::new();
    for (path, content) in files {
        let path = path.trim_matches('/');
        assert!(valid_path(path), "bad file path {path:?}");
        let sha = objects.add_blob(content.as_bytes());
        flat.insert(path.to_string(), FlatFile { mode: "100644".into(), sha });
    }
    write_flat(&flat, objects)
}

/// Writes the trees for these files (whose blobs are stored already); returns the root tree id. No files: the empty
/// tree.
pub fn write_flat(files: &Flat, objects: &mut Objects) -> String {
    let mut root = Dir::default();
    for (path, file) in files {
        let parts: Vec<&str> = path.split('/').collect();
        let mut dir = &mut root;
        for part in &parts[..parts.len() - 1] {
            dir = dir.dirs.entry(part.to_string()).or_default();
        }
        dir.files.insert(parts[parts.len() - 1].to_string(), file.clone());
    }
    write_dir(&root, objects)
}

fn write_dir(dir: &Dir, objects: &mut Objects) -> String {
    let mut entries = Vec::new();
    for (name, file) in &dir.files {
        let size = objects.blobs.get(&file.sha).map(Vec::len);
        entries.push(TreeEntry {
            name: name.clone(),
            kind: EntryKind::Blob,
            sha: file.sha.clone(),
            size,
            mode: file.mode.clone(),
        });
    }
    for (name, sub) in &dir.dirs {
        let sha = write_dir(sub, objects);
        entries.push(TreeEntry { name: name.clone(), kind: EntryKind::Tree, sha, size: None, mode: "040000".into() });
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
        let mode = if e.kind == EntryKind::Tree { "40000" } else { e.mode.as_str() };
        content.extend_from_slice(format!("{mode} {}\0", e.name).as_bytes());
        content.extend_from_slice(&unhex(&e.sha));
    }
    let sha = object_id("tree", &content);
    objects.trees.insert(sha.clone(), entries);
    sha
}

/// Every file under `tree` by its path (empty for an unknown tree).
pub fn flatten(objects: &Objects, tree: &str) -> Flat {
    fn walk(objects: &Objects, tree: &str, prefix: &str, out: &mut Flat) {
        for entry in objects.trees.get(tree).into_iter().flatten() {
            let path = format!("{prefix}{}", entry.name);
            match entry.kind {
                EntryKind::Blob => {
                    out.insert(path, FlatFile { mode: entry.mode.clone(), sha: entry.sha.clone() });
                }
                EntryKind::Tree => walk(objects, &entry.sha, &format!("{path}/"), out),
            }
        }
    }
    let mut out = Flat::new();
    walk(objects, tree, "", &mut out);
    out
}

/// The blob id of the file at `path` under `tree`, if there is one.
pub fn lookup(objects: &Objects, tree: &str, path: &str) -> Option<String> {
    let mut current = tree.to_string();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let entry = objects.trees.get(&current)?.iter().find(|e| e.name == *part)?;
        match (i + 1 == parts.len(), &entry.kind) {
            (true, EntryKind::Blob) => return Some(entry.sha.clone()),
            (false, EntryKind::Tree) => current = entry.sha.clone(),
            _ => return None,
        }
    }
    None
}

/// An author or committer of a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub email: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// The time zone's offset from UTC in minutes (`+0200` is 120).
    pub offset_minutes: i32,
}

impl Signature {
    /// The identity of the fake's own test commits ([`commit_sha`]).
    pub fn test(time: i64) -> Signature {
        Signature { name: "Shipshape Test".into(), email: "test@shipshape.invalid".into(), time, offset_minutes: 0 }
    }

    /// As in a commit object: `Name <email> 1700000000 +0000`.
    pub fn git_line(&self) -> String {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let m = self.offset_minutes.unsigned_abs();
        format!("{} <{}> {} {sign}{:02}{:02}", self.name, self.email, self.time, m / 60, m % 60)
    }
}

/// The id of a commit object of `tree` with these parents, author, committer and message (written as is: git's
/// tools end it with a newline, GitHub's API keeps what it is sent).
pub fn commit_id(tree: &str, parents: &[String], author: &Signature, committer: &Signature, message: &str) -> String {
    let mut content = format!("tree {tree}\n");
    for parent in parents {
        content.push_str(&format!("parent {parent}\n"));
    }
    content.push_str(&format!("author {}\ncommitter {}\n\n{message}", author.git_line(), committer.git_line()));
    object_id("commit", content.as_bytes())
}

/// The id of a parentless commit of `tree`, authored at `timestamp` (seconds) with `message`.
pub fn commit_sha(tree: &str, timestamp: i64, message: &str) -> String {
    let who = Signature::test(timestamp);
    commit_id(tree, &[], &who, &who, &format!("{message}\n"))
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

    #[test]
    fn modes_parents_and_time_zones_match_git() {
        // `git write-tree` with an executable `run.sh`, and `git commit-tree` with two parents, an author at +0200, a
        // committer at -0130 and a message without a final newline (`-F` of `printf 'merge\n\nbody'`).
        let mut objects = Objects::default();
        let mut flat = Flat::new();
        for (path, mode, content) in [("README.md", "100644", "hello\n"), ("run.sh", "100755", "#!/bin/sh\n")] {
            let sha = objects.add_blob(content.as_bytes());
            flat.insert(path.into(), FlatFile { mode: mode.into(), sha });
        }
        let tree = write_flat(&flat, &mut objects);
        assert_eq!(tree, "678ef6c5c30584da253d90b0afda63df039e8800");
        assert_eq!(flatten(&objects, &tree), flat);
        assert_eq!(lookup(&objects, &tree, "run.sh").as_deref(), Some("1a2485251c33a70432394c93fb89330ef214bfc9"));
        assert_eq!(lookup(&objects, &tree, "run.sh/x"), None);
        let author =
            Signature { name: "A U".into(), email: "a@x.invalid".into(), time: 1_700_000_000, offset_minutes: 120 };
        let committer =
            Signature { name: "C".into(), email: "c@x.invalid".into(), time: 1_700_000_100, offset_minutes: -90 };
        let first = commit_id(&tree, &[], &author, &committer, "first\n");
        assert_eq!(first, "86aa4647a1e7a3ecb08f22a6ab6c51331e9c74ab");
        let second = commit_id(&tree, &[], &author, &committer, "second\n");
        let merge = commit_id(&tree, &[first, second], &author, &committer, "merge\n\nbody");
        assert_eq!(merge, "0b9d1b414ee606699b9b9e5685803c0ca5ec976c");
        // Nothing left: the empty tree.
        assert_eq!(write_flat(&Flat::new(), &mut objects), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
    }
}
