//! [`Dispatch`]: runs one subscription's events side by side, up to its component's
//! `max_concurrent` at once. An event that finds every slot taken waits for one (rather than
//! being refused, as an HTTP request would be), and the subscription stops reading until it
//! gets one: the broker holds the rest.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Semaphore;

/// The events of one subscription in flight.
pub(crate) struct Dispatch {
    slots: Arc<Semaphore>,
    most: u32,
}

impl Dispatch {
    /// At most `most` events at once (at least one).
    pub(crate) fn new(most: u32) -> Self {
        let most = most.max(1);
        Self {
            slots: Arc::new(Semaphore::new(most as usize)),
            most,
        }
    }

    /// Waits for a free slot, then runs `event` in a task of its own, which frees the slot
    /// when done.
    pub(crate) async fn spawn(&self, event: impl Future<Output = ()> + Send + 'static) {
        // The semaphore is never closed.
        let Ok(slot) = self.slots.clone().acquire_owned().await else {
            return;
        };
        tokio::spawn(async move {
            event.await;
            drop(slot);
        });
    }

    /// Waits until every event in flight is done.
    pub(crate) async fn finish(self) {
        let _ = self.slots.acquire_many(self.most).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn runs_at_most_its_slots_at_once_and_finish_waits_for_all() {
        let dispatch = Dispatch::new(2);
        let (running, peak, done) = (
            Arc::new(AtomicU32::new(0)),
            Arc::new(AtomicU32::new(0)),
            Arc::new(AtomicU32::new(0)),
        );
        for _ in 0..6 {
            let (running, peak, done) = (running.clone(), peak.clone(), done.clone());
            dispatch
                .spawn(async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                })
                .await;
        }
        dispatch.finish().await;
        assert_eq!(done.load(Ordering::SeqCst), 6);
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }
}
