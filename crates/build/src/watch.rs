//! What `kiln watch` watches, and which change it saw: each component's `watch` globs
//! (`[component.ID.build] watch`, relative to its build directory), or its Wasm file when it
//! has none, and the manifest. Files are compared by size and modification time each time the
//! caller polls; a change is reported once the files have been still for a moment, so that an
//! editor's several writes make one rebuild.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use kiln_manifest::{ComponentSpec, Content};

/// How long files must stay unchanged before a change is reported.
const SETTLE: Duration = Duration::from_millis(50);

/// What changed since the last report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The manifest: the whole app is to be loaded again.
    Manifest,
    /// The watched files of these components (by id).
    Components(Vec<String>),
}

/// The files of an app that `kiln watch` looks at.
pub struct Watcher {
    manifest: PathBuf,
    /// Per component id, the glob patterns (absolute) of its files.
    components: BTreeMap<String, Vec<String>>,
    seen: Snapshot,
    /// A change seen, and when the files last moved.
    pending: Option<(Snapshot, Instant)>,
    /// When the newest of the files last reported changed was written.
    saved: SystemTime,
}

/// Size and modification time of every watched file, by owner (`None`: the manifest).
type Snapshot = BTreeMap<Option<String>, Vec<(PathBuf, u64, Option<SystemTime>)>>;

impl Watcher {
    /// Watches the manifest at `manifest` and its `components`, as they are now.
    pub fn new(manifest: &Path, components: &[ComponentSpec]) -> Self {
        let components = components
            .iter()
            .map(|component| {
                let globs = match &component.build {
                    Some(build) if !build.watch.is_empty() => build
                        .watch
                        .iter()
                        .map(|glob| build.workdir.join(glob).to_string_lossy().into_owned())
                        .collect(),
                    _ => match &component.source {
                        Content::File(path) => vec![glob::Pattern::escape(&path.to_string_lossy())],
                        Content::Digest(_) | Content::Remote(_) => Vec::new(),
                    },
                };
                (component.id.clone(), globs)
            })
            .collect();
        let mut watcher = Self {
            manifest: manifest.to_path_buf(),
            components,
            seen: Snapshot::new(),
            pending: None,
            saved: SystemTime::now(),
        };
        watcher.seen = watcher.snapshot();
        watcher
    }

    /// What changed since the last report, once the files have settled; `None` meanwhile.
    pub fn poll(&mut self) -> Option<Change> {
        let now = self.snapshot();
        match &self.pending {
            _ if now == self.seen => {
                self.pending = None;
                return None;
            }
            Some((moving, since)) if *moving == now && since.elapsed() >= SETTLE => {}
            Some((moving, _)) if *moving == now => return None,
            _ => {
                self.pending = Some((now, Instant::now()));
                return None;
            }
        }
        let changed: Vec<Option<String>> = now
            .iter()
            .filter(|(owner, files)| self.seen.get(*owner) != Some(files))
            .map(|(owner, _)| owner.clone())
            .collect();
        self.saved = changed
            .iter()
            .filter_map(|owner| now.get(owner))
            .flatten()
            .filter_map(|(_, _, modified)| *modified)
            .max()
            .unwrap_or_else(SystemTime::now);
        self.seen = now;
        self.pending = None;
        if changed.contains(&None) {
            return Some(Change::Manifest);
        }
        Some(Change::Components(changed.into_iter().flatten().collect()))
    }

    /// When the last change reported was saved: the newest write among its files.
    pub fn saved(&self) -> SystemTime {
        self.saved
    }

    /// The watched files as they are now.
    fn snapshot(&self) -> Snapshot {
        let mut snapshot = Snapshot::new();
        snapshot.insert(None, vec![stat(&self.manifest)]);
        for (id, globs) in &self.components {
            let mut files: Vec<_> = globs
                .iter()
                .filter_map(|pattern| glob::glob(pattern).ok())
                .flatten()
                .flatten()
                .filter(|path| path.is_file())
                .map(|path| stat(&path))
                .collect();
            files.sort();
            snapshot.insert(Some(id.clone()), files);
        }
        snapshot
    }
}

fn stat(path: &Path) -> (PathBuf, u64, Option<SystemTime>) {
    let metadata = std::fs::metadata(path).ok();
    (
        path.to_path_buf(),
        metadata.as_ref().map_or(0, |m| m.len()),
        metadata.and_then(|m| m.modified().ok()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_reported_once_the_files_settle() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(src.join("lib.rs"), "one").unwrap();
        let manifest = dir.path().join("spin.toml");
        std::fs::write(&manifest, "manifest").unwrap();
        let components = [ComponentSpec {
            id: "web".into(),
            build: Some(kiln_manifest::BuildSpec {
                commands: vec!["true".into()],
                workdir: dir.path().to_path_buf(),
                watch: vec!["src/**/*.rs".into()],
            }),
            ..Default::default()
        }];
        let mut watcher = Watcher::new(&manifest, &components);
        assert_eq!(watcher.poll(), None);
        std::fs::write(src.join("lib.rs"), "two, longer").unwrap();
        assert_eq!(watcher.poll(), None, "reported before the files settled");
        std::thread::sleep(SETTLE * 2);
        assert_eq!(watcher.poll(), Some(Change::Components(vec!["web".into()])));
        assert_eq!(watcher.poll(), None);
        std::fs::write(src.join("new.rs"), "added").unwrap();
        watcher.poll();
        std::thread::sleep(SETTLE * 2);
        assert_eq!(watcher.poll(), Some(Change::Components(vec!["web".into()])));
        std::fs::write(&manifest, "manifest, changed").unwrap();
        watcher.poll();
        std::thread::sleep(SETTLE * 2);
        assert_eq!(watcher.poll(), Some(Change::Manifest));
    }
}
