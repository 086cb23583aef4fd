//! [`try_map`]: fallible work on many items spread over the machine's cores, with the outcome a
//! sequential loop would have had. An app with thousands of components loads them this way.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Most threads [`try_map`] runs on. Each compile already spreads a component's functions over
/// every core; more loads at once only overlap their serial parts, and each holds a compile's
/// worth of memory (hundreds of MiB for a large component).
const MAX_THREADS: usize = 4;

/// `work` applied to every item, on up to one thread per core (at most [`MAX_THREADS`]); the
/// results in the items' order. On failure, no new item is started and the error of the first
/// failing item is returned: items are taken in order, so every item before it has run.
pub(crate) fn try_map<T, R, E>(
    items: &[T],
    work: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E>
where
    T: Sync,
    R: Send,
    E: Send,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(MAX_THREADS)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(work).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(index) else { break };
            let result = work(item);
            failed.fetch_or(result.is_err(), Ordering::Relaxed);
            done.push((index, result));
        }
        done
    };
    let mut done: Vec<(usize, Result<R, E>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = try_map(&items, |n| Ok::<_, ()>(n * 2)).unwrap();
        assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
    }

    #[test]
    fn the_first_failing_item_is_reported() {
        let items: Vec<u32> = (0..1000).collect();
        let failure = try_map(&items, |&n| {
            if n >= 300 && n % 7 == 0 {
                Err(n)
            } else {
                Ok(n)
            }
        });
        assert_eq!(failure, Err(301));
    }

    #[test]
    fn no_items_no_threads() {
        let none: Vec<u32> = Vec::new();
        assert_eq!(try_map(&none, |&n| Ok::<_, ()>(n)), Ok(vec![]));
    }
}
