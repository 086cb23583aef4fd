//! What key-value stores and SQL databases share: an app defines them by label, a component is
//! granted some labels, and an instance holds handles to the ones it opened.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Everything an app defines under labels, shared by its components.
pub struct Labelled<T> {
    all: Arc<HashMap<String, T>>,
}

impl<T> Clone for Labelled<T> {
    fn clone(&self) -> Self {
        Self {
            all: self.all.clone(),
        }
    }
}

impl<T> Default for Labelled<T> {
    fn default() -> Self {
        Self {
            all: Arc::new(HashMap::new()),
        }
    }
}

/// Why a label could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The component was granted the label, but the app defines nothing under it.
    Undefined,
    /// The component was not granted the label (whether or not the app defines it).
    NotGranted,
}

impl<T: Clone> Labelled<T> {
    /// Resources by label.
    pub fn new(all: HashMap<String, T>) -> Self {
        Self { all: Arc::new(all) }
    }

    /// The resource under `label`, if defined.
    pub fn get(&self, label: &str) -> Option<&T> {
        self.all.get(label)
    }

    /// What a component granted `labels` (its manifest's `field`) may open; an error names
    /// the first label the app does not define, and the runtime config `section` to add.
    pub(crate) fn grant_defined(
        &self,
        labels: &[String],
        field: &str,
        noun: &str,
        section: &str,
    ) -> Result<LabelGrant<T>, String> {
        match labels.iter().find(|label| self.get(label).is_none()) {
            Some(label) => Err(format!(
                "{field}: {noun} \"{label}\" is not defined: kiln provides \"default\"; define others as [{section}.{label}] in a file passed with --runtime-config-file"
            )),
            None => Ok(self.grant(labels)),
        }
    }

    /// What a component granted `labels` may open.
    pub fn grant(&self, labels: &[String]) -> LabelGrant<T> {
        LabelGrant {
            all: self.clone(),
            granted: Arc::new(labels.iter().cloned().collect()),
        }
    }
}

/// The labels one component may open.
pub struct LabelGrant<T> {
    all: Labelled<T>,
    granted: Arc<HashSet<String>>,
}

impl<T> Clone for LabelGrant<T> {
    fn clone(&self) -> Self {
        Self {
            all: self.all.clone(),
            granted: self.granted.clone(),
        }
    }
}

impl<T> Default for LabelGrant<T> {
    fn default() -> Self {
        Self {
            all: Labelled::default(),
            granted: Arc::default(),
        }
    }
}

impl<T: Clone> LabelGrant<T> {
    /// The resource under `label`, if the component was granted it and the app defines it. A
    /// label the component does not list is refused as not granted whether or not the app
    /// defines it (as Spin does: a component cannot probe which stores exist).
    pub fn open(&self, label: &str) -> Result<T, Refused> {
        if !self.granted.contains(label) {
            return Err(Refused::NotGranted);
        }
        self.all.get(label).cloned().ok_or(Refused::Undefined)
    }
}

/// The resources one instance has open, by handle (the guest resource's `rep`), up to a limit.
pub struct Handles<T> {
    open: HashMap<u32, T>,
    next: u32,
    limit: usize,
}

impl<T> Handles<T> {
    /// An empty table holding at most `limit` handles.
    pub fn new(limit: usize) -> Self {
        Self {
            open: HashMap::new(),
            next: 0,
            limit,
        }
    }

    /// Stores `value` under a new handle; `None` when the table is full.
    pub fn insert(&mut self, value: T) -> Option<u32> {
        if self.open.len() >= self.limit {
            return None;
        }
        let handle = self.next;
        self.next = self.next.wrapping_add(1);
        self.open.insert(handle, value);
        Some(handle)
    }

    /// The value under `handle`.
    pub fn get(&self, handle: u32) -> Option<&T> {
        self.open.get(&handle)
    }

    /// The value under `handle`, to change it.
    pub fn get_mut(&mut self, handle: u32) -> Option<&mut T> {
        self.open.get_mut(&handle)
    }

    /// Forgets `handle`.
    pub fn remove(&mut self, handle: u32) {
        self.open.remove(&handle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_distinguish_undefined_from_not_granted() {
        let all = Labelled::new(HashMap::from([("a".to_string(), 1), ("b".to_string(), 2)]));
        let grant = all.grant(&["a".to_string(), "zzz".to_string()]);
        assert_eq!(grant.open("a"), Ok(1));
        assert_eq!(grant.open("b"), Err(Refused::NotGranted));
        assert_eq!(grant.open("zzz"), Err(Refused::Undefined));
        assert_eq!(
            grant.open("nope"),
            Err(Refused::NotGranted),
            "neither defined nor granted: not granted"
        );
    }

    #[test]
    fn handles_are_bounded() {
        let mut handles = Handles::new(2);
        let a = handles.insert("a").unwrap();
        handles.insert("b").unwrap();
        assert_eq!(handles.insert("c"), None);
        handles.remove(a);
        assert!(handles.insert("c").is_some());
        assert_eq!(handles.get(a), None);
    }
}
