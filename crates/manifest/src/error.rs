use std::fmt;
use std::path::PathBuf;

/// Where in a manifest something is: the file and, when known, the line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The manifest file.
    pub path: PathBuf,
    /// Line and column, 1-based.
    pub line_col: Option<(usize, usize)>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line_col {
            Some((line, col)) => write!(f, "{}:{line}:{col}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// A manifest that cannot be loaded, with the place and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// No manifest file in the directory given.
    #[error("no kiln.toml or spin.toml in {}: pass the manifest with -f PATH", dir.display())]
    NotFound {
        /// The directory searched.
        dir: PathBuf,
    },
    /// The manifest file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The manifest file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The manifest is not valid: bad TOML, a wrong type, or a value that breaks a rule.
    #[error("{location}: {message}")]
    Invalid {
        /// Where the problem is.
        location: Location,
        /// What is wrong and what is expected.
        message: String,
    },
}
