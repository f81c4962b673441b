//! Tests of the working-tree and commit collectors, on repositories built in temporary directories.

use super::remote::parse_slug;
use super::worktree::human_size;
use super::*;
use git2::{IndexAddOption, Oid, Repository, Signature};
use globset::{Glob, GlobSetBuilder};
use std::path::Path;

fn plan(globs: &[&str]) -> ReadPlan {
    let mut set = GlobSetBuilder::new();
    for glob in globs {
        set.add(Glob::new(glob).unwrap());
    }
    ReadPlan::new(set.build().unwrap())
}

fn everything() -> ReadPlan {
    plan(&["**"])
}

fn write(root: &Path, path: &str, bytes: impl AsRef<[u8]>) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, bytes).unwrap();
}

#[cfg(unix)]
fn symlink(root: &Path, path: &str, target: impl AsRef<Path>) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, full).unwrap();
}

fn init(root: &Path) -> Repository {
    Repository::init(root).unwrap()
}

/// `git add -A && git commit`: stages everything not ignored (and removals), commits on HEAD.
fn commit_all(repo: &Repository, message: &str) -> Oid {
    let mut index = repo.index().unwrap();
    index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    commit_index(repo, message)
}

fn commit_index(repo: &Repository, message: &str) -> Oid {
    let mut index = repo.index().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<_> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents).unwrap()
}

fn keys(facts: &RepoFacts) -> Vec<&str> {
    facts.files.keys().map(String::as_str).collect()
}

fn content<'a>(facts: &'a RepoFacts, path: &str) -> &'a Content {
    &facts.files.get(path).unwrap_or_else(|| panic!("{path} not listed in {:?}", keys(facts))).content
}

fn text(s: &str) -> Content {
    Content::Text(s.to_string())
}

/// A repository exercising most of what the collectors handle, committed and clean.
fn sample_repo(root: &Path) -> Repository {
    let repo = init(root);
    write(root, "README.md", "# sample\n");
    write(root, ".gitignore", "target/\n*.log\n");
    write(root, ".github/workflows/ci.yml", "on: push\n");
    write(root, "src/main.rs", "fn main() {}\n");
    write(root, "src/.gitignore", "generated.rs\n");
    write(root, "src/generated.rs", "// ignored\n");
    write(root, "target/debug/app", "ignored build output");
    write(root, "build.log", "ignored log");
    write(root, "assets/logo.png", b"\x89PNG\r\n\x1a\n\0\0\0");
    write(root, "assets/big.txt", "x".repeat(1_500_000));
    #[cfg(unix)]
    {
        symlink(root, "docs/readme.md", "../README.md");
        symlink(root, "docs/chain.md", "readme.md");
        symlink(root, "docs/outside", "../../outside-the-repo.txt");
        symlink(root, "docs/absolute", "/etc/hostname");
        symlink(root, "docs/dangling", "missing.md");
        symlink(root, "docs/dir", "../src");
        symlink(root, "docs/through-dir", "dir/main.rs");
    }
    commit_all(&repo, "initial");
    repo
}

#[test]
fn gitignore_is_honoured_at_the_root_and_in_subdirectories_even_without_git() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", "target/\n*.log\n!keep.log\n");
    write(root, "target/debug/app", "");
    write(root, "a.log", "");
    write(root, "keep.log", "");
    write(root, "sub/.gitignore", "secret.txt\n");
    write(root, "sub/secret.txt", "");
    write(root, "sub/deeper/secret.txt", "");
    write(root, "sub/public.txt", "");
    write(root, "other/secret.txt", "");

    let facts = collect_worktree(root, &ReadPlan::nothing()).unwrap();
    assert_eq!(keys(&facts), [".gitignore", "keep.log", "other/secret.txt", "sub/.gitignore", "sub/public.txt"]);
    assert_eq!(facts.origin_slug, None);
    assert_eq!(facts.commit, None);
}

#[test]
fn git_info_exclude_is_honoured_in_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    init(root);
    write(root, ".git/info/exclude", "local-notes.md\n");
    write(root, "local-notes.md", "");
    write(root, "kept.md", "");
    let facts = collect_worktree(root, &ReadPlan::nothing()).unwrap();
    assert_eq!(keys(&facts), ["kept.md"]);
}

#[test]
fn hidden_files_are_listed_but_not_the_git_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init(root);
    write(root, ".github/workflows/ci.yml", "on: push\n");
    write(root, ".editorconfig", "root = true\n");
    commit_all(&repo, "ci");
    let facts = collect_worktree(root, &ReadPlan::nothing()).unwrap();
    assert_eq!(keys(&facts), [".editorconfig", ".github/workflows/ci.yml"]);
    assert_eq!(facts.files[".github/workflows/ci.yml"], FileFacts { size: 9, content: Content::NotRead });
}

#[test]
fn a_linked_worktree_with_a_git_file_is_read_like_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main");
    let repo = sample_repo(&main);
    let linked = dir.path().join("linked");
    repo.worktree("linked", &linked, None).unwrap();
    assert!(linked.join(".git").is_file());
    let worktree = collect_worktree(&linked, &everything()).unwrap();
    assert!(!worktree.files.contains_key(".git"));
    assert_eq!(worktree.files, collect_rev(&linked, "HEAD", &everything()).unwrap().files);
    assert_eq!(worktree.files, collect_worktree(&main, &everything()).unwrap().files);
    assert_eq!(worktree.commit, collect_worktree(&main, &everything()).unwrap().commit);
}

#[test]
fn only_wanted_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "README.md", "hello\n");
    write(root, "docs/guide.md", "guide\n");
    write(root, ".github/workflows/ci.yml", "on: push\n");
    write(root, "src/lib.rs", "// code\n");
    let facts = collect_worktree(root, &plan(&["README.md", ".github/workflows/*.yml"])).unwrap();
    assert_eq!(content(&facts, "README.md"), &text("hello\n"));
    assert_eq!(facts.text(".github/workflows/ci.yml"), Some("on: push\n"));
    assert_eq!(content(&facts, "docs/guide.md"), &Content::NotRead);
    assert_eq!(content(&facts, "src/lib.rs"), &Content::NotRead);
    assert_eq!(facts.files["src/lib.rs"].size, 8);
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
}

#[test]
fn large_and_binary_files_are_not_read_and_noted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let big = (3.2 * 1024.0 * 1024.0) as usize;
    write(root, "big.bin", vec![b'a'; big]);
    write(root, "limit.txt", vec![b'a'; MAX_READ_BYTES as usize]);
    write(root, "logo.png", b"\x89PNG\0\0");
    write(root, "latin1.txt", b"caf\xe9\n");
    write(root, "unwanted-big.bin", vec![b'a'; big]);
    let facts = collect_worktree(root, &plan(&["big.bin", "limit.txt", "logo.png", "latin1.txt"])).unwrap();
    assert_eq!(facts.files["big.bin"], FileFacts { size: big as u64, content: Content::TooLarge });
    assert!(matches!(content(&facts, "limit.txt"), Content::Text(t) if t.len() == MAX_READ_BYTES as usize));
    assert_eq!(content(&facts, "logo.png"), &Content::Binary);
    assert_eq!(content(&facts, "latin1.txt"), &Content::Binary);
    assert_eq!(content(&facts, "unwanted-big.bin"), &Content::NotRead);
    assert_eq!(
        facts.notes,
        ["skipped large file big.bin (3.2 MiB)", "skipped binary file latin1.txt", "skipped binary file logo.png"]
    );
}

#[test]
fn human_sizes() {
    assert_eq!(human_size(12), "12 B");
    assert_eq!(human_size(1536), "1.5 KiB");
    assert_eq!(human_size(MAX_READ_BYTES + 1), "1.0 MiB");
    assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GiB");
}

#[test]
fn root_must_be_an_existing_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "file.txt", "");
    let file = dir.path().join("file.txt");
    let err = collect_worktree(&file, &ReadPlan::nothing()).unwrap_err();
    assert!(matches!(err, FactsError::NotADirectory { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("{}: not a directory", file.display()));
    let missing = dir.path().join("missing");
    let err = collect_worktree(&missing, &ReadPlan::nothing()).unwrap_err();
    assert_eq!(err.to_string(), format!("{}: no such directory", missing.display()));
}

#[cfg(unix)]
#[test]
fn a_root_given_through_a_symlink_is_walked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "real/README.md", "hi");
    symlink(dir.path(), "alias", "real");
    let facts = collect_worktree(&dir.path().join("alias"), &ReadPlan::nothing()).unwrap();
    assert_eq!(keys(&facts), ["README.md"]);
}

#[cfg(unix)]
#[test]
fn worktree_symlinks_resolve_inside_the_root_only() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", "do not read");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "README.md", "# hi\n");
    write(root, "src/lib.rs", "// lib\n");
    write(root, ".gitignore", "ignored.txt\n");
    write(root, "ignored.txt", "ignored");
    symlink(root, "docs/readme.md", "../README.md");
    symlink(root, "docs/chain.md", "readme.md");
    symlink(root, "docs/through-dir.rs", "../src/../src/lib.rs");
    symlink(root, "escape.txt", outside.path().join("secret.txt"));
    symlink(root, "relative-escape.txt", "../outside/secret.txt");
    symlink(root, "dangling.md", "missing.md");
    symlink(root, "to-dir", "src");
    symlink(root, "to-ignored.txt", "ignored.txt");
    symlink(root, "loop-a", "loop-b");
    symlink(root, "loop-b", "loop-a");
    symlink(root, "unwanted-escape", outside.path().join("secret.txt"));

    let facts = collect_worktree(root, &plan(&["*.md", "*.txt", "*.rs", "to-dir", "loop-*"])).unwrap();
    assert_eq!(facts.files["docs/readme.md"], FileFacts { size: 5, content: text("# hi\n") });
    assert_eq!(facts.files["docs/chain.md"], facts.files["README.md"]);
    assert_eq!(facts.files["docs/through-dir.rs"], facts.files["src/lib.rs"]);
    for link in ["escape.txt", "relative-escape.txt", "dangling.md", "to-dir", "to-ignored.txt", "loop-a", "loop-b"] {
        assert_eq!(content(&facts, link), &Content::OutsideLink, "{link}");
        assert!(facts.notes.iter().any(|n| n.starts_with(&format!("not following symlink {link} -> "))), "{link}");
    }
    // Listed with the size of the link itself, which is the length of its target.
    assert_eq!(facts.files["dangling.md"].size, "missing.md".len() as u64);
    assert_eq!(content(&facts, "unwanted-escape"), &Content::NotRead);
    assert!(!facts.notes.iter().any(|n| n.contains("unwanted-escape")));
    assert!(!facts.files.contains_key("to-dir/lib.rs"), "links to directories are not descended into");
}

#[cfg(unix)]
#[test]
fn a_symlink_to_an_unwanted_file_reads_it_once_for_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "LICENSE-APACHE", "Apache\n");
    symlink(root, "LICENSE", "LICENSE-APACHE");
    let facts = collect_worktree(root, &plan(&["LICENSE"])).unwrap();
    assert_eq!(content(&facts, "LICENSE-APACHE"), &Content::NotRead);
    assert_eq!(facts.files["LICENSE"], FileFacts { size: 7, content: text("Apache\n") });
}

#[cfg(unix)]
#[test]
fn rev_symlinks_resolve_inside_the_tree_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init(root);
    write(root, "README.md", "# hi\n");
    symlink(root, "docs/readme.md", "../README.md");
    symlink(root, "escape.txt", "/etc/hostname");
    symlink(root, "relative-escape.txt", "../../x.txt");
    symlink(root, "dangling.md", "missing.md");
    commit_all(&repo, "links");
    // Changing the working tree must not matter: the commit is read from the object database.
    std::fs::remove_file(root.join("docs/readme.md")).unwrap();
    write(root, "docs/readme.md", "not a link any more");

    let facts = collect_rev(root, "HEAD", &everything()).unwrap();
    assert_eq!(facts.files["docs/readme.md"], FileFacts { size: 5, content: text("# hi\n") });
    for link in ["escape.txt", "relative-escape.txt", "dangling.md"] {
        assert_eq!(content(&facts, link), &Content::OutsideLink, "{link}");
    }
    assert_eq!(facts.files["escape.txt"].size, "/etc/hostname".len() as u64);
    assert_eq!(facts.notes.iter().filter(|n| n.starts_with("not following symlink")).count(), 3, "{:?}", facts.notes);
}

#[test]
fn rev_reads_a_past_commit_not_the_working_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init(root);
    write(root, "a.txt", "v1\n");
    write(root, "gone.txt", "deleted later\n");
    let first = commit_all(&repo, "first");
    write(root, "a.txt", "v2 v2\n");
    write(root, "b.txt", "new\n");
    std::fs::remove_file(root.join("gone.txt")).unwrap();
    let second = commit_all(&repo, "second");
    write(root, "a.txt", "v3, not committed\n");

    let past = collect_rev(root, "HEAD~1", &everything()).unwrap();
    assert_eq!(keys(&past), ["a.txt", "gone.txt"]);
    assert_eq!(past.files["a.txt"], FileFacts { size: 3, content: text("v1\n") });
    assert_eq!(past.commit, Some(first.to_string()));

    let by_sha = collect_rev(root, &first.to_string()[..10], &everything()).unwrap();
    assert_eq!(by_sha.files, past.files);

    let head = collect_rev(root, "HEAD", &everything()).unwrap();
    assert_eq!(keys(&head), ["a.txt", "b.txt"]);
    assert_eq!(head.text("a.txt"), Some("v2 v2\n"));
    assert_eq!(head.commit, Some(second.to_string()));

    let worktree = collect_worktree(root, &everything()).unwrap();
    assert_eq!(worktree.text("a.txt"), Some("v3, not committed\n"));
    assert_eq!(worktree.commit, Some(second.to_string()));
}

#[test]
fn rev_reads_only_wanted_blobs_and_sizes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init(root);
    write(root, "README.md", "hello\n");
    write(root, "src/lib.rs", "// some code\n");
    write(root, "big.txt", "y".repeat(MAX_READ_BYTES as usize + 1));
    write(root, "bin.dat", b"\0\x01");
    commit_all(&repo, "c");
    let facts = collect_rev(root, "HEAD", &plan(&["README.md", "big.txt", "bin.dat"])).unwrap();
    assert_eq!(facts.files["README.md"], FileFacts { size: 6, content: text("hello\n") });
    assert_eq!(facts.files["src/lib.rs"], FileFacts { size: 13, content: Content::NotRead });
    assert_eq!(facts.files["big.txt"], FileFacts { size: MAX_READ_BYTES + 1, content: Content::TooLarge });
    assert_eq!(content(&facts, "bin.dat"), &Content::Binary);
    // In path order.
    assert_eq!(facts.notes, ["skipped large file big.txt (1.0 MiB)", "skipped binary file bin.dat"]);
}

#[test]
fn bad_revision_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init(root);
    write(root, "a.txt", "");
    commit_all(&repo, "c");
    let err = collect_rev(root, "no-such-branch", &ReadPlan::nothing()).unwrap_err();
    assert!(matches!(&err, FactsError::BadRevision { rev, .. } if rev == "no-such-branch"), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}: cannot resolve revision `no-such-branch`: ", root.display())),
        "{message}"
    );
    // A revision that names something other than a commit is as bad.
    let blob = repo.revparse_single("HEAD:a.txt").unwrap().id().to_string();
    assert!(matches!(collect_rev(root, &blob, &ReadPlan::nothing()), Err(FactsError::BadRevision { .. })));
}

#[test]
fn rev_outside_a_repository_is_an_error_but_a_plain_worktree_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.txt", "a");
    let err = collect_rev(root, "HEAD", &ReadPlan::nothing()).unwrap_err();
    assert!(matches!(err, FactsError::NoRepository { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("not a git repository: {}", root.display()));
    let err = require_repository(root).unwrap_err();
    assert_eq!(err.to_string(), format!("not a git repository: {}", root.display()));
    init(root);
    require_repository(root).expect("a repository now");
    require_repository(&root.join("sub")).expect_err("no such directory");
    std::fs::create_dir(root.join("sub")).unwrap();
    require_repository(&root.join("sub")).expect("a directory of a repository");
    std::fs::remove_dir_all(root.join(".git")).unwrap();

    let facts = collect_worktree(root, &ReadPlan::nothing()).unwrap();
    assert_eq!(keys(&facts), ["a.txt"]);
    assert_eq!((facts.origin_slug, facts.commit), (None, None));
}

#[test]
fn unborn_head_has_no_commit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init(root);
    repo.remote("origin", "git@github.com:acme/widgets.git").unwrap();
    write(root, "a.txt", "a");
    let facts = collect_worktree(root, &ReadPlan::nothing()).unwrap();
    assert_eq!(facts.commit, None);
    assert_eq!(facts.origin_slug.as_deref(), Some("acme/widgets"));
    assert!(matches!(collect_rev(root, "HEAD", &ReadPlan::nothing()), Err(FactsError::BadRevision { .. })));
}

#[test]
fn origin_slug_comes_from_the_origin_remote() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init(root);
    repo.remote("upstream", "https://github.com/other/thing").unwrap();
    write(root, "a.txt", "a");
    commit_all(&repo, "c");
    assert_eq!(collect_worktree(root, &ReadPlan::nothing()).unwrap().origin_slug, None);
    repo.remote("origin", "https://github.com/acme/widgets.git").unwrap();
    assert_eq!(collect_worktree(root, &ReadPlan::nothing()).unwrap().origin_slug.as_deref(), Some("acme/widgets"));
    assert_eq!(collect_rev(root, "HEAD", &ReadPlan::nothing()).unwrap().origin_slug.as_deref(), Some("acme/widgets"));
}

#[test]
fn slug_parsing() {
    let cases = [
        ("https://github.com/acme/widgets", Some("acme/widgets")),
        ("https://github.com/acme/widgets.git", Some("acme/widgets")),
        ("https://github.com/acme/widgets/", Some("acme/widgets")),
        ("https://github.com/acme/widgets.git/", Some("acme/widgets")),
        ("http://github.com/acme/widgets", Some("acme/widgets")),
        ("https://x-access-token:abc@github.com/acme/widgets.git", Some("acme/widgets")),
        ("git@github.com:acme/widgets.git", Some("acme/widgets")),
        ("git@github.com:acme/widgets", Some("acme/widgets")),
        ("github.com:acme/widgets.git", Some("acme/widgets")),
        ("ssh://git@github.com/acme/widgets", Some("acme/widgets")),
        ("ssh://git@github.com:22/acme/widgets.git", Some("acme/widgets")),
        ("git://github.com/acme/widgets.git", Some("acme/widgets")),
        ("git+ssh://git@github.com/acme/widgets.git", Some("acme/widgets")),
        ("https://github.example.com/acme/widgets.git", Some("acme/widgets")),
        ("https://ghe.corp.example/scm/acme/widgets.git", Some("acme/widgets")),
        ("git@ghe.corp.example:acme/my_repo.js.git", Some("acme/my_repo.js")),
        ("  https://github.com/Acme-Inc/Widgets.git\n", Some("Acme-Inc/Widgets")),
        ("https://github.com/acme/widgets?tab=readme", Some("acme/widgets")),
        ("https://github.com/acme", None),
        ("https://github.com/", None),
        ("git@github.com:widgets.git", None),
        ("file:///srv/git/acme/widgets.git", None),
        ("/srv/git/acme/widgets.git", None),
        ("../acme/widgets", None),
        ("C:/repos/acme/widgets", None),
        ("https://github.com/acme/wid gets", None),
        ("https://github.com/acme/..", None),
        ("", None),
    ];
    for (url, expected) in cases {
        assert_eq!(parse_slug(url).as_deref(), expected, "{url:?}");
    }
}

#[test]
fn worktree_and_rev_agree_on_a_clean_checkout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = sample_repo(root);
    // Tracked although ignored: git still has it, so both must list it.
    write(root, "target/keep/README.md", "forced\n");
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("target/keep/README.md")).unwrap();
    index.write().unwrap();
    let head = commit_index(&repo, "force-add");

    for plan in [everything(), ReadPlan::nothing(), plan(&["docs/**", "*.md"])] {
        let worktree = collect_worktree(root, &plan).unwrap();
        let rev = collect_rev(root, "HEAD", &plan).unwrap();
        assert_eq!(worktree.files, rev.files);
        assert_eq!(worktree.notes, rev.notes);
        assert_eq!(worktree.commit, Some(head.to_string()));
        assert_eq!(rev.commit, Some(head.to_string()));
    }
    let facts = collect_rev(root, "HEAD", &everything()).unwrap();
    assert!(facts.files.contains_key("target/keep/README.md"));
    assert!(!facts.files.contains_key("target/debug/app"));
    assert!(!facts.files.contains_key("src/generated.rs"));
    assert!(!facts.files.contains_key("build.log"));
    assert!(facts.files.contains_key(".github/workflows/ci.yml"));
    assert!(!facts.files.keys().any(|k| k.starts_with(".git/")));
    assert_eq!(content(&facts, "assets/big.txt"), &Content::TooLarge);
    assert_eq!(content(&facts, "assets/logo.png"), &Content::Binary);
    #[cfg(unix)]
    {
        assert_eq!(facts.text("docs/chain.md"), Some("# sample\n"));
        assert_eq!(facts.text("docs/through-dir"), Some("fn main() {}\n"));
        for link in ["docs/outside", "docs/absolute", "docs/dangling", "docs/dir"] {
            assert_eq!(content(&facts, link), &Content::OutsideLink, "{link}");
        }
    }
}

#[test]
fn a_subdirectory_root_is_scored_the_same_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    sample_repo(root);
    let worktree = collect_worktree(&root.join("src"), &everything()).unwrap();
    let rev = collect_rev(&root.join("src"), "HEAD", &everything()).unwrap();
    assert_eq!(keys(&worktree), [".gitignore", "main.rs"]);
    assert_eq!(worktree.files, rev.files);
    assert_eq!(worktree.commit, rev.commit);
}

#[test]
fn submodules_and_nested_repositories_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let repo = init(root);
    write(root, "a.txt", "a");
    // A nested repository in the working tree: git would record it as a gitlink, never its files.
    let nested = init(&root.join("vendor/lib"));
    write(&root.join("vendor/lib"), "lib.rs", "// vendored\n");
    let nested_head = commit_all(&nested, "nested");
    let mut index = repo.index().unwrap();
    index.add_path(Path::new("a.txt")).unwrap();
    index.write().unwrap();
    commit_index(&repo, "c");
    // Record the nested repository as a submodule in the commit.
    let head = repo.head().unwrap().peel_to_commit().unwrap();
    let mut vendor = repo.treebuilder(None).unwrap();
    vendor.insert("lib", nested_head, 0o160000).unwrap();
    let vendor = vendor.write().unwrap();
    let mut top = repo.treebuilder(Some(&head.tree().unwrap())).unwrap();
    top.insert("vendor", vendor, 0o040000).unwrap();
    let tree = repo.find_tree(top.write().unwrap()).unwrap();
    let sig = Signature::now("Test", "test@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "submodule", &tree, &[&head]).unwrap();

    let worktree = collect_worktree(root, &everything()).unwrap();
    assert_eq!(keys(&worktree), ["a.txt"]);
    assert_eq!(worktree.notes, ["skipped nested git repository vendor/lib"]);
    let rev = collect_rev(root, "HEAD", &everything()).unwrap();
    assert_eq!(rev.files, worktree.files);
    assert_eq!(rev.notes, [format!("skipped submodule vendor/lib (commit {:.12})", nested_head)]);
}
