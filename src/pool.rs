//! Work done in parallel and handed on in the order it was given, as it is
//! ready: results can be written while later items are still being worked
//! on, and only a bounded window of them ever waits, so memory stays flat
//! however many items there are.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// How many items each thread may work ahead of the first one not yet
/// handed on: enough that a slow item rarely idles the others, few enough
/// that waiting results stay small.
const AHEAD_PER_THREAD: usize = 16;

/// How many results in a row wake a consumer that waits for them.
const WAKE_AFTER: usize = 8;

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
        state: Mutex::new(State {
            next: 0,
            handed_on: 0,
            stopped: false,
            ready: VecDeque::new(),
            workers: threads,
            workers_waiting: 0,
            consumer_waiting: false,
        }),
        room: Condvar::new(),
        arrived: Condvar::new(),
        limit: threads * AHEAD_PER_THREAD,
        count,
    };
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (window, work) = (&window, &work);
            scope.spawn(move || {
                let _leaving = Leaving(window);
                while let Some(index) = window.take() {
                    window.put(index, work(index));
                }
            });
        }
        let result = consume(&mut InOrder(&window));
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

/// What the threads and the consumer share, under one lock.
struct State<T> {
    /// The next index to work on.
    next: usize,
    /// How many results the consumer has taken.
    handed_on: usize,
    stopped: bool,
    /// Finished results not yet handed on: slot `i` holds index
    /// `handed_on + i`.
    ready: VecDeque<Option<T>>,
    /// Threads still working.
    workers: usize,
    workers_waiting: usize,
    consumer_waiting: bool,
}

struct Window<T> {
    state: Mutex<State<T>>,
    /// The consumer moved on: there is room to take another index.
    room: Condvar,
    /// The result the consumer waits for arrived, or a thread left.
    arrived: Condvar,
    limit: usize,
    count: usize,
}

impl<T> Window<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
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
            state.workers_waiting += 1;
            state = self
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.workers_waiting -= 1;
        }
    }

    /// Files the result of `index`. A waiting consumer is woken once a few
    /// results are ready for it in a row, not for each (a wake-up is a
    /// system call and a switch of threads), or when no more can come
    /// without it.
    fn put(&self, index: usize, item: T) {
        let mut state = self.lock();
        let slot = index - state.handed_on;
        if state.ready.len() <= slot {
            state.ready.resize_with(slot + 1, || None);
        }
        state.ready[slot] = Some(item);
        if !state.consumer_waiting {
            return;
        }
        let in_a_row = state
            .ready
            .iter()
            .take(WAKE_AFTER)
            .take_while(|r| r.is_some());
        let enough = in_a_row.count() == WAKE_AFTER.min(self.count - state.handed_on);
        let stuck =
            state.ready[0].is_some() && (state.next >= self.count || state.workers_waiting > 0);
        if enough || stuck {
            self.arrived.notify_one();
        }
    }

    fn stop(&self) {
        self.lock().stopped = true;
        self.room.notify_all();
    }
}

/// Counts a thread out when it ends, even by a panic, so that the
/// consumer never waits for a result no thread will bring.
struct Leaving<'w, T>(&'w Window<T>);

impl<T> Drop for Leaving<'_, T> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.workers -= 1;
        if state.consumer_waiting {
            self.0.arrived.notify_one();
        }
    }
}

/// The results in index order, each handed on once every earlier one was.
struct InOrder<'w, T>(&'w Window<T>);

impl<T> Iterator for InOrder<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        let window = self.0;
        let mut state = window.lock();
        loop {
            if state.handed_on >= window.count {
                return None;
            }
            if let Some(item) = state.ready.front_mut().and_then(Option::take) {
                state.ready.pop_front();
                state.handed_on += 1;
                if state.workers_waiting > 0 {
                    window.room.notify_all();
                }
                return Some(item);
            }
            // A thread that panicked brings nothing more; the scope
            // re-raises its panic once `consume` returns.
            if state.workers == 0 {
                return None;
            }
            state.consumer_waiting = true;
            state = window
                .arrived
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.consumer_waiting = false;
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
