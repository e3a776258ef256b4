//! Work done in parallel and handed on in the order it was given, as it is
//! ready: results can be written while later items are still being worked
//! on, and only a bounded window of them ever waits, so memory stays flat
//! however many items there are.

use std::collections::VecDeque;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// How many items each thread may work ahead of the first one not yet
/// handed on: enough that a slow item rarely idles the others, few enough
/// that waiting results stay small.
const AHEAD_PER_THREAD: usize = 16;

/// Calls `work` on `0..count` on as many threads as rayon's current pool
/// has, and gives `consume` the results in index order as they are ready.
/// When `consume` returns before taking every result (its output was
/// closed), the threads stop after the items they are on.
pub fn map_in_order<T: Send, R>(
    count: usize,
    work: impl Fn(usize) -> T + Sync,
    consume: impl FnOnce(&mut dyn Iterator<Item = T>) -> R,
) -> R {
    let threads = match count {
        0 | 1 => 1,
        _ => rayon::current_num_threads().clamp(1, count),
    };
    if threads == 1 {
        return consume(&mut (0..count).map(work));
    }
    let window = Window {
        state: Mutex::new(Taken::default()),
        moved: Condvar::new(),
        limit: threads * AHEAD_PER_THREAD,
        count,
    };
    let (sender, receiver) = channel();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let sender = sender.clone();
            let (window, work) = (&window, &work);
            scope.spawn(move || {
                while let Some(index) = window.take() {
                    if sender.send((index, work(index))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut ordered = InOrder {
            receiver,
            waiting: VecDeque::new(),
            next: 0,
            window: &window,
        };
        let result = consume(&mut ordered);
        window.stop();
        result
    })
}

/// [`map_in_order`] over owned items: `work` takes each item by value.
pub fn map_items_in_order<I: Send, T: Send, R>(
    items: Vec<I>,
    work: impl Fn(I) -> T + Sync,
    consume: impl FnOnce(&mut dyn Iterator<Item = T>) -> R,
) -> R {
    // Each item is taken out of its slot by the one thread that works on it.
    let slots: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    map_in_order(
        slots.len(),
        |index| {
            let item = slots[index]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            work(item.expect("each index is worked on once"))
        },
        consume,
    )
}

/// Which item is the next to take, and how far the consumer has got.
#[derive(Default)]
struct Taken {
    next: usize,
    handed_on: usize,
    stopped: bool,
    /// Threads waiting for the consumer to move on.
    waiting: usize,
}

struct Window {
    state: Mutex<Taken>,
    moved: Condvar,
    limit: usize,
    count: usize,
}

impl Window {
    fn lock(&self) -> MutexGuard<'_, Taken> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next index to work on, waiting while it would run too far ahead
    /// of the consumer; `None` when all are taken or the consumer stopped.
    fn take(&self) -> Option<usize> {
        let mut state = self.lock();
        loop {
            if state.stopped || state.next >= self.count {
                return None;
            }
            if state.next < state.handed_on + self.limit {
                state.next += 1;
                return Some(state.next - 1);
            }
            state.waiting += 1;
            state = self
                .moved
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.waiting -= 1;
        }
    }

    fn handed_on(&self, count: usize) {
        let mut state = self.lock();
        state.handed_on = count;
        // Waking costs a system call: only when somebody waits.
        let waiting = state.waiting > 0;
        drop(state);
        if waiting {
            self.moved.notify_all();
        }
    }

    fn stop(&self) {
        self.lock().stopped = true;
        self.moved.notify_all();
    }
}

/// The results in index order: each waits in `waiting` (slot `i` holds
/// index `next + i`) until every earlier one was handed on.
struct InOrder<'w, T> {
    receiver: Receiver<(usize, T)>,
    waiting: VecDeque<Option<T>>,
    next: usize,
    window: &'w Window,
}

impl<T> Iterator for InOrder<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            if let Some(slot) = self.waiting.front_mut()
                && let Some(item) = slot.take()
            {
                self.waiting.pop_front();
                self.next += 1;
                self.window.handed_on(self.next);
                return Some(item);
            }
            // A worker that panicked sends nothing more; the scope re-raises
            // its panic once `consume` returns.
            let (index, item) = self.receiver.recv().ok()?;
            let slot = index - self.next;
            if self.waiting.len() <= slot {
                self.waiting.resize_with(slot + 1, || None);
            }
            self.waiting[slot] = Some(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
    }

    #[test]
    fn results_come_in_the_order_given_whatever_order_they_finish_in() {
        let out: Vec<usize> = pool(4).install(|| {
            map_in_order(
                500,
                |i| {
                    // Early items take longest, so later ones finish first.
                    std::thread::sleep(std::time::Duration::from_micros(
                        ((500 - i) % 7) as u64 * 50,
                    ));
                    i * 2
                },
                |results| results.collect(),
            )
        });
        assert_eq!(out, (0..500).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn no_thread_works_further_ahead_than_the_window() {
        let handed_on = AtomicUsize::new(0);
        let furthest_ahead = AtomicUsize::new(0);
        let threads = 3;
        pool(threads).install(|| {
            map_in_order(
                2_000,
                |i| {
                    let ahead = i - handed_on.load(Ordering::SeqCst).min(i);
                    furthest_ahead.fetch_max(ahead, Ordering::SeqCst);
                    i
                },
                |results| {
                    for i in results {
                        // A slow consumer: the workers must wait for it.
                        if i % 100 == 0 {
                            std::thread::sleep(std::time::Duration::from_millis(2));
                        }
                        handed_on.store(i + 1, Ordering::SeqCst);
                    }
                },
            )
        });
        let furthest = furthest_ahead.load(Ordering::SeqCst);
        assert!(
            furthest <= threads * AHEAD_PER_THREAD,
            "an item was worked on {furthest} ahead of the consumer"
        );
    }

    #[test]
    fn a_consumer_that_stops_early_stops_the_workers() {
        let worked = AtomicUsize::new(0);
        let threads = 2;
        let first: Vec<usize> = pool(threads).install(|| {
            map_in_order(
                100_000,
                |i| {
                    worked.fetch_add(1, Ordering::SeqCst);
                    i
                },
                |results| results.take(3).collect(),
            )
        });
        assert_eq!(first, [0, 1, 2]);
        let worked = worked.load(Ordering::SeqCst);
        assert!(
            worked <= 3 + threads * AHEAD_PER_THREAD + threads,
            "{worked} items were worked on for 3 taken"
        );
    }

    #[test]
    fn one_item_or_none_needs_no_thread() {
        let caller = std::thread::current().id();
        let ids: Vec<_> = map_in_order(1, |_| std::thread::current().id(), |r| r.collect());
        assert_eq!(ids, [caller]);
        let none: Vec<usize> = map_in_order(0, |i| i, |r| r.collect());
        assert!(none.is_empty());
    }
}
