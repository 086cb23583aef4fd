//! What one component's instances may use: memory, time, concurrency and body sizes. Resolved
//! once per component at load (the manifest's limits, then the command line's, then kiln's
//! defaults); enforced per instance by [`InstanceLimiter`] and per request by the callers.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// kiln's defaults: roomy for an ordinary app, small enough that one runaway guest cannot take
/// a small host with it.
pub const DEFAULT_LIMITS: kiln_manifest::Limits = kiln_manifest::Limits {
    max_memory: Some(256 << 20),
    timeout: Some(Duration::from_secs(30)),
    max_concurrent: Some(256),
    max_request_body: Some(16 << 20),
    max_response_body: Some(256 << 20),
};

/// How long a request waits for a free slot when its component is at `max_concurrent`, before
/// it is answered 503.
const QUEUE_WAIT: Duration = Duration::from_secs(1);

/// Most elements any one table of an instance may hold.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// The limits one component runs under, every one set.
// Not `Clone`: a copy would share the request slots of the component it came from.
#[derive(Debug)]
pub struct ComponentLimits {
    /// Most linear memory an instance may hold, all its memories together, in bytes.
    pub max_memory: usize,
    /// Longest one request (or message) may run, response body included.
    pub timeout: Duration,
    /// Largest request body accepted, in bytes.
    pub max_request_body: u64,
    /// Largest response body sent, in bytes.
    pub max_response_body: u64,
    max_concurrent: u32,
    slots: Arc<Semaphore>,
}

impl ComponentLimits {
    /// `limits`, with kiln's defaults where it sets none.
    pub fn resolve(limits: kiln_manifest::Limits) -> Self {
        let limits = limits.or(DEFAULT_LIMITS);
        let max_concurrent = limits.max_concurrent.unwrap_or(1);
        Self {
            max_memory: usize::try_from(limits.max_memory.unwrap_or(u64::MAX))
                .unwrap_or(usize::MAX),
            timeout: limits.timeout.unwrap_or(Duration::MAX),
            max_request_body: limits.max_request_body.unwrap_or(u64::MAX),
            max_response_body: limits.max_response_body.unwrap_or(u64::MAX),
            max_concurrent,
            slots: Arc::new(Semaphore::new(max_concurrent as usize)),
        }
    }

    /// When a request that starts now must be done.
    pub fn deadline(&self) -> tokio::time::Instant {
        let now = tokio::time::Instant::now();
        now.checked_add(self.timeout)
            .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
    }

    /// Most requests the component runs at once.
    pub fn max_concurrent(&self) -> u32 {
        self.max_concurrent
    }

    /// Most instances of the component alive at once: one per request it runs, and one more
    /// still being dropped as its successor starts.
    pub fn instances_needed(&self) -> u32 {
        self.max_concurrent.saturating_add(1)
    }

    /// A slot to run one request in, waiting briefly when all are taken; `None` when none
    /// freed up in time. The slot is held until the permit is dropped.
    pub(crate) async fn acquire_slot(&self) -> Option<OwnedSemaphorePermit> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Some(permit);
        }
        tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }
}

impl Default for ComponentLimits {
    fn default() -> Self {
        Self::resolve(kiln_manifest::Limits::default())
    }
}

/// The instance grew its memory past its limit; the instance is stopped.
#[derive(Debug, thiserror::Error)]
#[error("the instance asked for {desired} bytes of linear memory, over its limit of {limit} bytes (raise max_memory in [component.ID.tool.kiln.limits] or --max-memory)")]
pub struct MemoryLimitExceeded {
    /// The limit, in bytes.
    pub limit: usize,
    /// What the instance would have held, in bytes.
    pub desired: usize,
}

/// Counts one instance's linear memory and stops it at its limit.
pub(crate) struct InstanceLimiter {
    max_memory: usize,
    used: usize,
}

impl InstanceLimiter {
    pub(crate) fn new(limits: &ComponentLimits) -> Self {
        Self {
            max_memory: limits.max_memory,
            used: 0,
        }
    }
}

impl wasmtime::ResourceLimiter for InstanceLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.used.saturating_sub(current).saturating_add(desired);
        if total > self.max_memory {
            // An error, not a refusal: the guest stops here with a reason kiln can report,
            // instead of aborting later in its allocator with a bare `unreachable`.
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.max_memory,
                desired: total,
            }));
        }
        self.used = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use wasmtime::ResourceLimiter as _;

    use super::*;

    #[test]
    fn memory_is_counted_across_memories() {
        let limits = ComponentLimits::resolve(kiln_manifest::Limits {
            max_memory: Some(100),
            ..Default::default()
        });
        let mut limiter = InstanceLimiter::new(&limits);
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        assert!(limiter.memory_growing(0, 30, None).unwrap());
        let error = limiter.memory_growing(30, 50, None).unwrap_err();
        assert!(error.downcast_ref::<MemoryLimitExceeded>().is_some());
        assert!(limiter.memory_growing(30, 40, None).unwrap());
    }

    #[tokio::test]
    async fn slots_run_out_then_free_up() {
        let limits = ComponentLimits::resolve(kiln_manifest::Limits {
            max_concurrent: Some(1),
            ..Default::default()
        });
        let first = limits.acquire_slot().await.unwrap();
        assert!(limits.acquire_slot().await.is_none());
        drop(first);
        assert!(limits.acquire_slot().await.is_some());
    }
}
