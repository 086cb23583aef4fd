//! [`Residency`]: which components are in memory, under one process-wide budget. A component
//! that can be loaded again cheaply (its compiled form is in the compile cache) is admitted
//! here when it loads; past the budget the least recently used are unloaded, and load again
//! from the cache when next asked for. This is what lets one host carry thousands of apps.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Weak};

/// A component that can give back its loaded form and load it again later.
pub(crate) trait Resident: Send + Sync {
    /// The [`Residency::now`] of its last use.
    fn last_used(&self) -> u64;
    /// Drops the loaded form; what it returns is dropped after the residency's lock is let go.
    fn unload(&self) -> Option<Box<dyn Send>>;
}

/// The loaded components and their budget.
pub(crate) struct Residency {
    budget: usize,
    /// Counts loads: a component used since the last load has the newest time there is.
    clock: AtomicU64,
    resident: Mutex<Vec<Weak<dyn Resident>>>,
}

impl Residency {
    /// At most `budget` components loaded at once (a tenth of it is freed when it is full).
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            budget: budget.max(1),
            clock: AtomicU64::new(0),
            resident: Mutex::default(),
        }
    }

    /// The time a use is recorded with: cheap, shared, and written only by loads.
    pub(crate) fn now(&self) -> u64 {
        self.clock.load(Ordering::Relaxed)
    }

    /// Records that `component` was just loaded; unloads the least recently used components
    /// when that takes the count past the budget.
    pub(crate) fn admit(&self, component: Weak<dyn Resident>) {
        self.clock.fetch_add(1, Ordering::Relaxed);
        let unloaded: Vec<Box<dyn Send>> = {
            let mut resident = self.resident.lock().unwrap_or_else(|e| e.into_inner());
            resident.push(component);
            if resident.len() <= self.budget {
                return;
            }
            resident.retain(|c| c.strong_count() > 0);
            if resident.len() <= self.budget {
                return;
            }
            // Freeing a tenth at once sorts the list once per that many loads, not every time.
            let keep = self.budget - self.budget / 10;
            resident.sort_by_cached_key(|c| {
                std::cmp::Reverse(c.upgrade().map_or(0, |c| c.last_used()))
            });
            resident
                .drain(keep..)
                .filter_map(|c| c.upgrade()?.unload())
                .collect()
        };
        tracing::debug!(
            "unloaded {} least recently used components (budget {})",
            unloaded.len(),
            self.budget
        );
    }

    /// How many components are loaded.
    pub(crate) fn loaded(&self) -> usize {
        let resident = self.resident.lock().unwrap_or_else(|e| e.into_inner());
        resident.iter().filter(|c| c.strong_count() > 0).count()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    use super::*;

    struct Fake {
        last_used: AtomicU64,
        loaded: AtomicBool,
    }

    impl Resident for Fake {
        fn last_used(&self) -> u64 {
            self.last_used.load(Ordering::Relaxed)
        }
        fn unload(&self) -> Option<Box<dyn Send>> {
            self.loaded
                .swap(false, Ordering::Relaxed)
                .then(|| Box::new(()) as _)
        }
    }

    fn load(residency: &Residency) -> Arc<Fake> {
        let fake = Arc::new(Fake {
            last_used: AtomicU64::new(residency.now()),
            loaded: AtomicBool::new(true),
        });
        residency.admit(Arc::downgrade(&fake) as Weak<dyn Resident>);
        fake
    }

    #[test]
    fn the_least_recently_used_are_unloaded_past_the_budget() {
        let residency = Residency::new(10);
        let fakes: Vec<_> = (0..10).map(|_| load(&residency)).collect();
        // The first one is used again: it is now among the most recent.
        fakes[0].last_used.store(residency.now(), Ordering::Relaxed);
        assert_eq!(residency.loaded(), 10);
        let eleventh = load(&residency);
        let loaded: Vec<bool> = fakes
            .iter()
            .map(|f| f.loaded.load(Ordering::Relaxed))
            .collect();
        // Down to 9: the two oldest unused (1 and 2) went, the reused first one stayed.
        assert_eq!(
            loaded,
            [true, false, false, true, true, true, true, true, true, true]
        );
        assert!(eleventh.loaded.load(Ordering::Relaxed));
        assert_eq!(residency.loaded(), 9);
    }

    #[test]
    fn dropped_components_free_their_place() {
        let residency = Residency::new(2);
        drop(load(&residency));
        drop(load(&residency));
        let kept = load(&residency);
        assert!(kept.loaded.load(Ordering::Relaxed));
        assert_eq!(residency.loaded(), 1);
    }
}
