//! Facts from a working tree on disk: one parallel walk that honours `.gitignore`, reading only what the plan wants.
//!
//! The listing and symlink resolution in this module are shared with [`super::gitrev`], so that a clean checkout and
//! the commit it came from give the same files.

use super::remote::{head_commit, origin_slug};
use super::{Content, FactsError, FileFacts, MAX_READ_BYTES, ReadPlan, RepoFacts, decode_text};
use crate::diag::shown_path;
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::{Component, Path};
use std::sync::{Arc, Mutex, PoisonError};

/// Symlinks are followed this many times while resolving one link, then given up on (loops).
const MAX_LINK_HOPS: usize = 40;

pub fn collect_worktree(root: &Path, plan: &ReadPlan) -> Result<RepoFacts, FactsError> {
    let display = root.display().to_string();
    // Walk the real path: the walker does not descend into a root that is itself a symlink.
    let root = match std::fs::canonicalize(root) {
        Ok(real) if real.is_dir() => real,
        Ok(_) => return Err(FactsError::NotADirectory { path: display }),
        Err(_) => return Err(FactsError::NotFound { path: display }),
    };
    // Reading the git index takes milliseconds in a large repository: do it while the walk runs.
    let (walked, git) = std::thread::scope(|scope| {
        let git = scope.spawn(|| GitSide::read(&root));
        let walked = walk(&root, plan);
        (walked, git.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let Walked { found, nested } = walked.map_err(|cause| FactsError::Walk { path: display, cause })?;
    let mut listing = found.into_listing();
    for dir in &nested {
        let prefix = format!("{dir}/");
        listing.files.retain(|path, _| !path.starts_with(&prefix));
        listing.links.retain(|path, _| !path.starts_with(&prefix));
        listing.notes.push((dir.clone(), format!("skipped nested git repository {}", shown_path(dir))));
    }

    // Files git tracks although `.gitignore` matches them (added with `--force`, or before the rule): git still
    // considers them part of the tree, and the commit lists them, so the working tree must too.
    let mut tracked_ignored = Found::default();
    for path in git.tracked {
        if listing.files.contains_key(&path)
            || listing.links.contains_key(&path)
            || nested.iter().any(|dir| path.strip_prefix(dir.as_str()).is_some_and(|rest| rest.starts_with('/')))
        {
            continue;
        }
        let full = root.join(&path);
        if let Ok(meta) = std::fs::symlink_metadata(&full) {
            tracked_ignored.add(path, &full, &meta, meta.file_type(), plan);
        }
    }
    listing.merge(tracked_ignored.into_listing());

    let (files, notes) = listing.finish(plan, |path, size| read_file(&root.join(path), size));
    Ok(RepoFacts { files, origin_slug: git.origin_slug, commit: git.commit, notes })
}

/// What the repository around the root says, if there is one.
#[derive(Default)]
struct GitSide {
    origin_slug: Option<String>,
    commit: Option<String>,
    /// Paths of the index below the root, relative to it (submodules left out).
    tracked: Vec<String>,
}

impl GitSide {
    fn read(root: &Path) -> Self {
        let Ok(repo) = git2::Repository::discover(root) else { return Self::default() };
        let mut side = Self { origin_slug: origin_slug(&repo), commit: head_commit(&repo), tracked: Vec::new() };
        let prefix = repo.workdir().and_then(|w| std::fs::canonicalize(w).ok()).and_then(|workdir| {
            let prefix = root.strip_prefix(workdir).ok()?.to_str()?.replace(std::path::MAIN_SEPARATOR, "/");
            Some(if prefix.is_empty() { prefix } else { prefix + "/" })
        });
        if let (Some(prefix), Ok(index)) = (prefix, repo.index()) {
            const GITLINK: u32 = 0o160000;
            side.tracked = index
                .iter()
                .filter(|entry| entry.mode & 0o170000 != GITLINK)
                .filter_map(|entry| Some(std::str::from_utf8(&entry.path).ok()?.strip_prefix(&prefix)?.to_string()))
                .collect();
        }
        side
    }
}

struct Walked {
    found: Found,
    /// Directories below the root holding a `.git`: nested repositories or submodules, whose files git does not
    /// track in this repository.
    nested: Vec<String>,
}

fn walk(root: &Path, plan: &ReadPlan) -> Result<Walked, ignore::Error> {
    let nested = Arc::new(Mutex::new(Vec::new()));
    let mut walk = WalkBuilder::new(root);
    walk.hidden(false)
        .follow_links(false)
        .require_git(false)
        .parents(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        // `.ignore` files are ripgrep's, not git's: honouring them would hide committed files.
        .ignore(false);
    {
        let nested = Arc::clone(&nested);
        walk.filter_entry(move |entry| {
            if entry.file_name() != ".git" {
                return true;
            }
            if entry.depth() > 1
                && let Some(parent) = entry.path().parent()
            {
                nested.lock().unwrap_or_else(PoisonError::into_inner).push(parent.to_path_buf());
            }
            false
        });
    }
    let shared = Mutex::new((Found::default(), None));
    walk.build_parallel().visit(&mut VisitorBuilder { root, plan, shared: &shared });
    let (found, fatal) = shared.into_inner().unwrap_or_else(PoisonError::into_inner);
    if let Some(err) = fatal {
        return Err(err);
    }
    let mut nested: Vec<String> = std::mem::take(&mut *nested.lock().unwrap_or_else(PoisonError::into_inner))
        .iter()
        .filter_map(|dir| relative(root, dir))
        .collect();
    nested.sort();
    Ok(Walked { found, nested })
}

/// Reads at most [`MAX_READ_BYTES`] (plus one, to notice growth since the size was taken).
fn read_file(path: &Path, size: u64) -> Result<Content, String> {
    if size > MAX_READ_BYTES {
        return Ok(Content::TooLarge);
    }
    let mut bytes = Vec::with_capacity(size as usize + 1);
    File::open(path)
        .and_then(|file| file.take(MAX_READ_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    Ok(content_of(bytes))
}

/// Text, binary, or too large, from bytes read with a limit of [`MAX_READ_BYTES`] + 1.
pub(super) fn content_of(bytes: Vec<u8>) -> Content {
    if bytes.len() as u64 > MAX_READ_BYTES { Content::TooLarge } else { decode_text(bytes) }
}

/// `a/b/c` for `root/a/b/c` (as the walker builds it); `None` for the root itself, paths not below it, and non-UTF-8
/// names.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let root = root.as_os_str().as_encoded_bytes();
    let rest = path.as_os_str().as_encoded_bytes().strip_prefix(root)?;
    let rest = match rest.split_first() {
        _ if root.last().is_some_and(|&b| std::path::is_separator(b.into())) => rest,
        Some((&b, rest)) if std::path::is_separator(b.into()) => rest,
        _ => return None,
    };
    let rest = std::str::from_utf8(rest).ok()?;
    if rest.is_empty() {
        return None;
    }
    if cfg!(windows) { Some(rest.replace('\\', "/")) } else { Some(rest.to_string()) }
}

/// A symlink's target as git stores it: `/`-separated, absolute targets starting with `/`; `None` if not UTF-8.
fn link_text(target: &Path) -> Option<String> {
    let mut parts = Vec::new();
    let mut absolute = false;
    for component in target.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => absolute = true,
            Component::CurDir => parts.push("."),
            Component::ParentDir => parts.push(".."),
            Component::Normal(name) => parts.push(name.to_str()?),
        }
    }
    let joined = parts.join("/");
    Some(if absolute { format!("/{joined}") } else { joined })
}

/// The walk's results, gathered by each thread and merged when it ends; unordered until turned into a [`Listing`].
#[derive(Default)]
pub(super) struct Found {
    pub files: Vec<(String, FileFacts)>,
    pub links: Vec<(String, Link)>,
    pub notes: Vec<(String, String)>,
}

impl Found {
    fn add(
        &mut self,
        path: String,
        full: &Path,
        meta: &std::fs::Metadata,
        file_type: std::fs::FileType,
        plan: &ReadPlan,
    ) {
        if file_type.is_symlink() {
            let target = std::fs::read_link(full).ok().and_then(|t| link_text(&t));
            self.links.push((path, Link { target, size: meta.len() }));
        } else if file_type.is_file() {
            let size = meta.len();
            let content = if plan.wants(&path) {
                read_file(full, size).unwrap_or_else(|err| {
                    self.notes.push((path.clone(), format!("cannot read {}: {err}", shown_path(&path))));
                    Content::NotRead
                })
            } else {
                Content::NotRead
            };
            self.files.push((path, FileFacts { size, content }));
        } else if !file_type.is_dir() {
            self.notes.push((path.clone(), format!("skipped {}: not a regular file or symlink", shown_path(&path))));
        }
    }

    fn append(&mut self, mut other: Found) {
        self.files.append(&mut other.files);
        self.links.append(&mut other.links);
        self.notes.append(&mut other.notes);
    }

    pub(super) fn into_listing(self) -> Listing {
        Listing { files: self.files.into_iter().collect(), links: self.links.into_iter().collect(), notes: self.notes }
    }
}

struct VisitorBuilder<'a> {
    root: &'a Path,
    plan: &'a ReadPlan,
    shared: &'a Mutex<(Found, Option<ignore::Error>)>,
}

impl<'s> ParallelVisitorBuilder<'s> for VisitorBuilder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor {
            root: self.root,
            plan: self.plan,
            shared: self.shared,
            found: Found::default(),
            fatal: None,
        })
    }
}

/// One walker thread: collects on its own and hands its results over when the walk is over.
struct Visitor<'a> {
    root: &'a Path,
    plan: &'a ReadPlan,
    shared: &'a Mutex<(Found, Option<ignore::Error>)>,
    found: Found,
    /// The root itself could not be read.
    fatal: Option<ignore::Error>,
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        shared.0.append(std::mem::take(&mut self.found));
        if shared.1.is_none() {
            shared.1 = self.fatal.take();
        }
    }
}

impl ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        match entry {
            Ok(entry) => self.entry(&entry),
            Err(err) if err.depth() == Some(0) => {
                self.fatal = Some(err);
                return WalkState::Quit;
            }
            Err(err) => self.found.notes.push((String::new(), format!("cannot read part of the tree: {err}"))),
        }
        WalkState::Continue
    }
}

impl Visitor<'_> {
    fn entry(&mut self, entry: &DirEntry) {
        if let Some(err) = entry.error() {
            // A partial error: typically an ignore file with an invalid line; the rest of it still applies.
            self.found.notes.push((String::new(), err.to_string()));
        }
        let Some(file_type) = entry.file_type() else { return };
        if file_type.is_dir() {
            return;
        }
        let Some(path) = relative(self.root, entry.path()) else {
            let shown = entry.path().strip_prefix(self.root).unwrap_or(entry.path()).display().to_string();
            self.found.notes.push((shown.clone(), format!("skipped {}: name is not UTF-8", shown_path(&shown))));
            return;
        };
        match entry.metadata() {
            Ok(meta) => self.found.add(path, entry.path(), &meta, file_type, self.plan),
            Err(err) => self.found.notes.push((path.clone(), format!("cannot read {}: {err}", shown_path(&path)))),
        }
    }
}

/// Files and symlinks of a tree by root-relative path, before symlinks are resolved.
#[derive(Default)]
pub(super) struct Listing {
    pub files: BTreeMap<String, FileFacts>,
    pub links: BTreeMap<String, Link>,
    /// `(path, note)`, so notes can be given in path order whatever order the entries were found in.
    pub notes: Vec<(String, String)>,
}

pub(super) struct Link {
    /// The target as stored (`/`-separated); `None` when it is not UTF-8.
    pub target: Option<String>,
    /// Size of the link itself (the length of its target), used when it cannot be resolved.
    pub size: u64,
}

/// What a path is in the listing, for the resolver.
enum Kind<'a> {
    File,
    Link(Option<&'a str>),
    Dir,
    Missing,
}

impl Listing {
    fn merge(&mut self, mut other: Listing) {
        self.files.append(&mut other.files);
        self.links.append(&mut other.links);
        self.notes.append(&mut other.notes);
    }

    /// Resolves symlinks, and writes notes about what could not be read.
    ///
    /// `read(path, size)` reads a listed file that was not read yet, because it was not wanted but a wanted symlink
    /// points at it; each such file is read once however many links point at it.
    pub(super) fn finish(
        mut self,
        plan: &ReadPlan,
        mut read: impl FnMut(&str, u64) -> Result<Content, String>,
    ) -> (BTreeMap<String, FileFacts>, Vec<String>) {
        let mut notes = std::mem::take(&mut self.notes);
        let mut resolved = Vec::with_capacity(self.links.len());
        if !self.links.is_empty() {
            let dirs = self.dirs();
            let mut read_for_links: HashMap<String, Content> = HashMap::new();
            for (path, link) in &self.links {
                let wanted = plan.wants(path);
                let facts = match self.resolve(path, &dirs) {
                    Some(target) => {
                        let file = &self.files[&target];
                        let content = if !wanted {
                            Content::NotRead
                        } else if file.content != Content::NotRead {
                            file.content.clone()
                        } else {
                            read_for_links
                                .entry(target.clone())
                                .or_insert_with(|| {
                                    read(&target, file.size).unwrap_or_else(|err| {
                                        notes.push((
                                            path.clone(),
                                            format!(
                                                "cannot read {} (via {}): {err}",
                                                shown_path(&target),
                                                shown_path(path)
                                            ),
                                        ));
                                        Content::NotRead
                                    })
                                })
                                .clone()
                        };
                        FileFacts { size: file.size, content }
                    }
                    None if wanted => {
                        let target = link.target.as_deref().unwrap_or("<non-UTF-8 path>");
                        let why = "not a file in the repository (outside it, missing, or a directory)";
                        notes.push((
                            path.clone(),
                            format!("not following symlink {} -> {}: {why}", shown_path(path), shown_path(target)),
                        ));
                        FileFacts { size: link.size, content: Content::OutsideLink }
                    }
                    None => FileFacts { size: link.size, content: Content::NotRead },
                };
                resolved.push((path.clone(), facts));
            }
        }

        let mut files = self.files;
        files.extend(resolved);
        for (path, facts) in &files {
            match facts.content {
                Content::TooLarge => notes.push((
                    path.clone(),
                    format!("skipped large file {} ({})", shown_path(path), human_size(facts.size)),
                )),
                Content::Binary => notes.push((path.clone(), format!("skipped binary file {}", shown_path(path)))),
                _ => {}
            }
        }
        notes.sort();
        notes.dedup();
        (files, notes.into_iter().map(|(_, note)| note).collect())
    }

    /// Every directory that holds a listed file or link (`a`, `a/b` for `a/b/c`).
    fn dirs(&self) -> HashSet<&str> {
        let mut dirs = HashSet::new();
        for path in self.files.keys().chain(self.links.keys()) {
            let mut end = path.len();
            while let Some(slash) = path[..end].rfind('/') {
                if !dirs.insert(&path[..slash]) {
                    break;
                }
                end = slash;
            }
        }
        dirs
    }

    fn kind(&self, path: &str, dirs: &HashSet<&str>) -> Kind<'_> {
        if self.files.contains_key(path) {
            Kind::File
        } else if let Some(link) = self.links.get(path) {
            Kind::Link(link.target.as_deref())
        } else if path.is_empty() || dirs.contains(path) {
            Kind::Dir
        } else {
            Kind::Missing
        }
    }

    /// The listed regular file the symlink at `link` ends at, following links on the way like the OS would, but
    /// only through paths of the listing: `None` if it leaves the root, dangles, loops, or ends at a directory.
    fn resolve(&self, link: &str, dirs: &HashSet<&str>) -> Option<String> {
        let mut current: Vec<&str> = link.split('/').collect();
        // Start as though arriving at the link itself, so the loop below follows it.
        let mut pending = vec![current.pop()?];
        let mut hops = 0;
        while let Some(name) = pending.pop() {
            match name {
                "" | "." => continue,
                ".." => {
                    current.pop()?;
                    continue;
                }
                _ => current.push(name),
            }
            let path = current.join("/");
            match self.kind(&path, dirs) {
                Kind::File if pending.iter().all(|p| p.is_empty()) => return Some(path),
                Kind::File | Kind::Missing => return None,
                Kind::Dir => {}
                Kind::Link(target) => {
                    hops += 1;
                    let target = target?;
                    if hops > MAX_LINK_HOPS || target.starts_with('/') {
                        return None;
                    }
                    current.pop();
                    pending.extend(target.split('/').rev());
                }
            }
        }
        None
    }
}

/// `3.2 MiB`.
pub(super) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
