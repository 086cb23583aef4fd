//! Stages a component's `files` into one directory under the app's state directory, which the
//! guest then sees read-only at `/`. Files are hard-linked (copied across file systems); only
//! regular files are staged, so nothing in the stage points outside it.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use kiln_manifest::{ContentStore, FileMount};

/// Builds `<state_dir>/files/<component_id>/` afresh from `mounts`, each read from `content`,
/// and returns it.
pub(crate) fn stage(
    state_dir: &Path,
    component_id: &str,
    mounts: &[FileMount],
    content: &dyn ContentStore,
) -> anyhow::Result<PathBuf> {
    let root = state_dir.join("files").join(component_id);
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("clearing {}", root.display()))?;
    }
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
    for mount in mounts {
        let relative = mount.guest.trim_start_matches('/');
        if relative.split('/').any(|part| part == "..") {
            anyhow::bail!("guest path {} leaves the component's root", mount.guest);
        }
        let target = root.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let host = mount.content.local_path(content)?;
        if std::fs::hard_link(&host, &target).is_err() {
            std::fs::copy(&host, &target)
                .with_context(|| format!("copying {} to {}", host.display(), target.display()))?;
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use kiln_manifest::{Content, LocalFiles};

    use super::*;

    #[test]
    fn stages_files_at_their_guest_paths() {
        let src = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("a.txt"), "a").unwrap();
        let mounts = [FileMount {
            content: Content::File(src.path().join("a.txt")),
            guest: "/static/a.txt".into(),
        }];
        let root = stage(state.path(), "web", &mounts, &LocalFiles::default()).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("static/a.txt")).unwrap(),
            "a"
        );
        // Staging again starts from an empty directory.
        let root = stage(state.path(), "web", &[], &LocalFiles::default()).unwrap();
        assert!(!root.join("static").exists());
    }

    #[test]
    fn refuses_paths_that_climb_out() {
        let state = tempfile::tempdir().unwrap();
        let mounts = [FileMount {
            content: Content::File("/etc/hostname".into()),
            guest: "/../escape".into(),
        }];
        assert!(stage(state.path(), "web", &mounts, &LocalFiles::default()).is_err());
    }
}
