//! Reading many /proc files at once. Each /proc/PID is independent and the
//! reads are nearly all of rs-lsns's time on a busy machine, so they run in
//! chunks on a few threads. rs-lsns enters no namespace, so threads are safe
//! here (unshare and setns are what refuse a threaded caller).

/// Below this many items a second thread costs more than it saves.
const PER_THREAD: usize = 256;
/// /proc reads scale with cores only so far; more threads add contention.
const MAX_THREADS: usize = 4;

/// `f` over `items`, in order, keeping the `Some`s; on up to [`MAX_THREADS`]
/// threads (no more than the cores), each with [`PER_THREAD`] items at least.
/// The results come in one vector per chunk: consumed in turn, each is freed
/// before the next, and nothing is copied into one big vector in between.
pub fn filter_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Option<R> + Sync,
) -> Vec<Vec<R>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(MAX_THREADS).min(items.len() / PER_THREAD).max(1);
    if threads == 1 {
        return vec![items.iter().filter_map(&f).collect()];
    }
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(items.len().div_ceil(threads));
        let first = chunks.next().unwrap_or_default();
        let others: Vec<_> = chunks
            .map(|chunk| scope.spawn(move || chunk.iter().filter_map(f).collect::<Vec<R>>()))
            .collect();
        let mut all = vec![first.iter().filter_map(f).collect::<Vec<R>>()];
        for handle in others {
            match handle.join() {
                Ok(part) => all.push(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_filters_across_chunks() {
        for n in [0, 1, 255, 256, 511, 512, 1000, 4099] {
            let items: Vec<u32> = (0..n).collect();
            let got: Vec<u32> = filter_map(&items, |&i| (i % 3 != 0).then_some(i * 2))
                .into_iter()
                .flatten()
                .collect();
            let want: Vec<u32> = items
                .iter()
                .filter(|i| *i % 3 != 0)
                .map(|i| i * 2)
                .collect();
            assert_eq!(got, want, "n={n}");
        }
    }
}
