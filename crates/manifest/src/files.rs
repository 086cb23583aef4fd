//! Resolves a component's `files` and `exclude_files` into single files, each with the guest
//! path Spin gives it: a glob match keeps its path relative to the app directory; a
//! `{ source, destination }` directory is placed under `destination`.

use std::path::{Path, PathBuf};

use crate::schema::RawFileMount;
use crate::{Content, FileMount};

/// Every file the entries make visible, minus the excluded ones, sorted by guest path.
pub(crate) fn resolve(
    base: &Path,
    entries: &[RawFileMount],
    exclude: &[String],
) -> Result<Vec<FileMount>, String> {
    let exclude = exclude
        .iter()
        .map(|p| glob::Pattern::new(p).map_err(|e| format!("exclude_files: bad glob \"{p}\": {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut mounts = Vec::new();
    for entry in entries {
        match entry {
            RawFileMount::Pattern(pattern) => glob_files(base, pattern, &mut mounts)?,
            RawFileMount::Placement {
                source,
                destination,
            } => place(base, source, destination, &mut mounts)?,
        }
    }
    mounts.retain(|m| {
        let host = m.content.path().unwrap_or(base);
        let relative = host.strip_prefix(base).unwrap_or(host);
        !exclude.iter().any(|p| p.matches_path(relative))
    });
    mounts.sort_by(|a, b| a.guest.cmp(&b.guest));
    mounts.dedup_by(|a, b| a.guest == b.guest);
    Ok(mounts)
}

fn glob_files(base: &Path, pattern: &str, out: &mut Vec<FileMount>) -> Result<(), String> {
    let full = base.join(pattern);
    let paths = glob::glob(&full.to_string_lossy())
        .map_err(|e| format!("files: bad glob \"{pattern}\": {e}"))?;
    for path in paths {
        let path = path.map_err(|e| format!("files: \"{pattern}\": {e}"))?;
        if path.is_file() {
            let relative = path.strip_prefix(base).map_err(|_| {
                format!("files: \"{pattern}\" matches {} outside the app directory: use {{ source, destination }}", path.display())
            })?;
            out.push(FileMount {
                guest: guest_path("/", relative),
                content: Content::File(path.clone()),
            });
        }
    }
    Ok(())
}

fn place(
    base: &Path,
    source: &str,
    destination: &str,
    out: &mut Vec<FileMount>,
) -> Result<(), String> {
    if !destination.starts_with('/') {
        return Err(format!(
            "files: destination \"{destination}\" must be an absolute guest path such as \"/{destination}\""
        ));
    }
    let root = base.join(source);
    if root.is_file() {
        out.push(FileMount {
            content: Content::File(root),
            guest: destination.to_string(),
        });
        return Ok(());
    }
    if !root.is_dir() {
        return Err(format!(
            "files: source \"{source}\" does not exist ({}): create it or fix the path",
            root.display()
        ));
    }
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("files: reading {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("files: reading {}: {e}", dir.display()))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() {
                let relative = path.strip_prefix(&root).unwrap_or(&path);
                out.push(FileMount {
                    guest: guest_path(destination, relative),
                    content: Content::File(path.clone()),
                });
            }
        }
    }
    Ok(())
}

fn guest_path(destination: &str, relative: &Path) -> String {
    let mut guest = PathBuf::from(destination);
    guest.push(relative);
    guest.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for path in [
            "static/a.txt",
            "static/sub/b.txt",
            "static/secret.key",
            "assets/c.css",
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        dir
    }

    fn guests(mounts: &[FileMount]) -> Vec<&str> {
        mounts.iter().map(|m| m.guest.as_str()).collect()
    }

    #[test]
    fn globs_keep_their_relative_path_and_excludes_apply() {
        let dir = app_dir();
        let entries = [RawFileMount::Pattern("static/**/*".into())];
        let mounts = resolve(dir.path(), &entries, &["static/*.key".into()]).unwrap();
        assert_eq!(guests(&mounts), ["/static/a.txt", "/static/sub/b.txt"]);
    }

    #[test]
    fn placements_map_a_directory_under_the_destination() {
        let dir = app_dir();
        let entries = [RawFileMount::Placement {
            source: "assets".into(),
            destination: "/web".into(),
        }];
        let mounts = resolve(dir.path(), &entries, &[]).unwrap();
        assert_eq!(guests(&mounts), ["/web/c.css"]);
        assert_eq!(
            mounts[0].content,
            Content::File(dir.path().join("assets/c.css"))
        );
    }

    #[test]
    fn a_missing_source_directory_is_an_error() {
        let dir = app_dir();
        let entries = [RawFileMount::Placement {
            source: "nope".into(),
            destination: "/".into(),
        }];
        assert!(resolve(dir.path(), &entries, &[])
            .unwrap_err()
            .contains("does not exist"));
    }
}
