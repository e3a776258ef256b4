//! Work done in parallel and handed on in the order it was given, as it is
//! ready: results can be written while later items are still being worked
//! on, and only a bounded window of them ever waits, so memory stays flat
//! however many items there are.
//!
//! The consumer is one of the workers: when the next result in order is not
//! ready, it works on an item itself rather than wait to be woken, so no
//! more threads run than there are to work, and none is switched in only to
//! hand a result on. When several threads work, it runs on one of its own,
//! not the caller's: each thread allocates from an arena of its own, and
//! the caller's holds what start-up left behind, among which the
//! documents' allocations are slower to find room. While it works on an
//! item, results that are ready wait for it, within the window.
//!
//! A result is freed by the thread that made it: the consumer hands each
//! back when done with it (see [`Handed`]). The allocator keeps a thread's
//! memory in that thread's arena, and freeing into another thread's arena
//! means taking its lock while that thread allocates.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// How many items each thread may work ahead of the first one not yet
/// handed on: enough that a slow item rarely idles the others, few enough
/// that waiting results stay small.
const AHEAD_PER_THREAD: usize = 16;

/// How many results in a row wake a consumer that waits for them.
const WAKE_AFTER: usize = 8;

/// A result of [`map_in_order`]: the result itself through `Deref`, which
/// goes back to the thread that made it to be freed there when dropped, or
/// is kept with [`Handed::into_inner`].
pub struct Handed<'w, T> {
    item: Option<T>,
    /// Where the thread that made it takes back what it is to free.
    back: Option<&'w Mutex<Vec<T>>>,
}

impl<'w, T> Handed<'w, T> {
    /// An item made where it is consumed: dropped where it is.
    pub fn new(item: T) -> Self {
        Self {
            item: Some(item),
            back: None,
        }
    }

    /// The item, freed where its new owner drops it.
    pub fn into_inner(mut self) -> T {
        self.item.take().expect("an item is only taken out once")
    }
}

impl<T> std::ops::Deref for Handed<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.item.as_ref().expect("an item is only taken out once")
    }
}

impl<T> std::borrow::Borrow<T> for Handed<'_, T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T> Drop for Handed<'_, T> {
    fn drop(&mut self) {
        if let (Some(item), Some(back)) = (self.item.take(), self.back) {
            lock(back).push(item);
        }
    }
}

fn lock<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Calls `work` on `0..count` on as many threads as rayon's current pool
/// has, and gives `consume` the results in index order as they are ready;
/// `consume` runs on one of those threads (the caller's when there is only
/// one), and works while it waits.
/// When `consume` returns before taking every result (its output was
/// closed), the threads stop after the items they are on.
pub fn map_in_order<T: Send, R: Send>(
    count: usize,
    work: impl Fn(usize) -> T + Sync,
    consume: impl for<'w> FnOnce(&mut dyn Iterator<Item = Handed<'w, T>>) -> R + Send,
) -> R {
    let threads = match count {
        0 | 1 => 1,
        _ => rayon::current_num_threads().clamp(1, count),
    };
    if threads == 1 {
        return consume(&mut (0..count).map(|index| Handed::new(work(index))));
    }
    let window = Window {
        state: Mutex::new(State {
            next: 0,
            handed_on: 0,
            stopped: false,
            ready: VecDeque::new(),
            workers: threads - 1,
            workers_waiting: 0,
            consumer_waiting: false,
        }),
        room: Condvar::new(),
        arrived: Condvar::new(),
        limit: threads * AHEAD_PER_THREAD,
        count,
        back: (1..threads).map(|_| Mutex::default()).collect(),
    };
    let result = std::thread::scope(|scope| {
        // Stops the threads however this ends: one waiting for room would
        // otherwise wait forever after a panic (the consumer's, or a
        // failure to start it).
        let _stopping = Stopping(&window);
        for maker in 1..threads {
            let (window, work) = (&window, &work);
            scope.spawn(move || {
                let _leaving = Leaving(window);
                // What the consumer handed back, swapped with an empty list
                // whose room it fills next: no list is allocated again.
                let mut returned = Vec::new();
                let mut next = window.take(None);
                while let Some(index) = next {
                    let item = work(index);
                    next = window.take(Some((index, maker, item)));
                    std::mem::swap(&mut *lock(window.back_to(maker)), &mut returned);
                    returned.clear();
                }
            });
        }
        let (window, work) = (&window, &work);
        scope
            .spawn(move || consume(&mut InOrder { window, work }))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    // What was handed back after its thread ended is freed here.
    drop(window);
    result
}

/// [`map_in_order`] over owned items: `work` takes each item by value.
pub fn map_items_in_order<I: Send, T: Send, R: Send>(
    items: Vec<I>,
    work: impl Fn(I) -> T + Sync,
    consume: impl for<'w> FnOnce(&mut dyn Iterator<Item = Handed<'w, T>>) -> R + Send,
) -> R {
    // Each item is taken out of its slot by the one thread that works on it.
    let slots: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    map_in_order(
        slots.len(),
        |index| {
            let item = lock(&slots[index]).take();
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
    /// Finished results not yet handed on, with the thread that made each
    /// (0 for the consumer): slot `i` holds index `handed_on + i`.
    ready: VecDeque<Option<(usize, T)>>,
    /// Threads besides the consumer still working.
    workers: usize,
    /// Threads waiting for room, not yet woken.
    workers_waiting: usize,
    /// The consumer waits for a result, and no thread has woken it yet.
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
    /// What the consumer handed back, by the thread that made it (from 1;
    /// the consumer's own results are freed where it drops them).
    back: Vec<Mutex<Vec<T>>>,
}

impl<T> Window<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }

    /// Where the results of thread `maker` (from 1) go back to it.
    fn back_to(&self, maker: usize) -> &Mutex<Vec<T>> {
        &self.back[maker - 1]
    }

    /// The next index to work on, if one may be taken now: not all taken,
    /// not stopped, and not too far ahead of the consumer.
    fn next_index(&self, state: &mut State<T>) -> Option<usize> {
        let room = state.next < state.handed_on + self.limit;
        if state.stopped || state.next >= self.count || !room {
            return None;
        }
        state.next += 1;
        Some(state.next - 1)
    }

    /// Files the result of `index`, made by thread `maker`.
    fn file(&self, state: &mut State<T>, index: usize, maker: usize, item: T) {
        let slot = index - state.handed_on;
        if state.ready.len() <= slot {
            state.ready.resize_with(slot + 1, || None);
        }
        state.ready[slot] = Some((maker, item));
    }

    /// Files the result `done` of an index (with the thread that made it),
    /// if any, and takes the next index to work on, under one lock; waits
    /// while that would run too far ahead of the consumer. `None` when all
    /// are taken or the consumer stopped.
    fn take(&self, done: Option<(usize, usize, T)>) -> Option<usize> {
        let mut state = self.lock();
        if let Some((index, maker, item)) = done
            && self.put(&mut state, index, maker, item)
        {
            // Woken outside the lock, so that the consumer does not wake
            // only to wait for it.
            drop(state);
            self.arrived.notify_one();
            state = self.lock();
        }
        loop {
            if let Some(index) = self.next_index(&mut state) {
                return Some(index);
            }
            // No room now; once all are taken or the run stopped, none later.
            if state.stopped || state.next >= self.count {
                return None;
            }
            state.workers_waiting += 1;
            state = self
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Files the result of `index`; whether to wake the consumer: once a
    /// few results are ready for it in a row, not for each (a wake-up is a
    /// system call and a switch of threads), or when no more can come
    /// without it.
    fn put(&self, state: &mut State<T>, index: usize, maker: usize, item: T) -> bool {
        self.file(state, index, maker, item);
        if !state.consumer_waiting {
            return false;
        }
        let in_a_row = state
            .ready
            .iter()
            .take(WAKE_AFTER)
            .take_while(|r| r.is_some());
        let enough = in_a_row.count() == WAKE_AFTER.min(self.count - state.handed_on);
        let stuck =
            state.ready[0].is_some() && (state.next >= self.count || state.workers_waiting > 0);
        // Woken once, however many results arrive before it runs.
        state.consumer_waiting &= !(enough || stuck);
        enough || stuck
    }

    fn stop(&self) {
        self.lock().stopped = true;
        self.room.notify_all();
    }
}

/// Stops the threads when dropped.
struct Stopping<'w, T>(&'w Window<T>);

impl<T> Drop for Stopping<'_, T> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Counts a thread out when it ends, even by a panic, so that the
/// consumer never waits for a result no thread will bring. A panic stops
/// the others too: the result it took will never come, so the window
/// would stay full, and the threads waiting for room would wait forever.
struct Leaving<'w, T>(&'w Window<T>);

impl<T> Drop for Leaving<'_, T> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.workers -= 1;
        let panicked = std::thread::panicking();
        state.stopped |= panicked;
        if state.consumer_waiting {
            state.consumer_waiting = false;
            self.0.arrived.notify_one();
        }
        drop(state);
        if panicked {
            self.0.room.notify_all();
        }
    }
}

/// The results in index order, each handed on once every earlier one was;
/// while the next is not ready, the consumer works on an item itself.
struct InOrder<'w, T> {
    window: &'w Window<T>,
    work: &'w (dyn Fn(usize) -> T + Sync),
}

impl<'w, T> Iterator for InOrder<'w, T> {
    type Item = Handed<'w, T>;

    fn next(&mut self) -> Option<Handed<'w, T>> {
        let window = self.window;
        let mut state = window.lock();
        loop {
            if state.handed_on >= window.count {
                return None;
            }
            if let Some((maker, item)) = state.ready.front_mut().and_then(Option::take) {
                state.ready.pop_front();
                state.handed_on += 1;
                // Threads waiting for room are woken once, not again for
                // every slot freed before they run.
                let wake = state.workers_waiting > 0;
                state.workers_waiting = 0;
                drop(state);
                if wake {
                    window.room.notify_all();
                }
                return Some(Handed {
                    item: Some(item),
                    back: (maker > 0).then(|| window.back_to(maker)),
                });
            }
            if let Some(index) = window.next_index(&mut state) {
                drop(state);
                let item = (self.work)(index);
                state = window.lock();
                window.file(&mut state, index, 0, item);
                continue;
            }
            // A thread that panicked brings nothing more, and stopped the
            // others; the scope panics in turn once `consume` returns.
            if state.workers == 0 {
                return None;
            }
            state.consumer_waiting = true;
            state = window
                .arrived
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
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
                |results| results.map(Handed::into_inner).collect(),
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
                        if *i % 100 == 0 {
                            std::thread::sleep(std::time::Duration::from_millis(2));
                        }
                        handed_on.store(*i + 1, Ordering::SeqCst);
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
                |results| results.take(3).map(Handed::into_inner).collect(),
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
    fn the_consumer_works_too_and_no_more_threads_than_the_pool_has() {
        let threads = 3;
        let (caller, consumer, makers) = pool(threads).install(|| {
            let caller = std::thread::current().id();
            let (consumer, makers) = map_in_order(
                600,
                |_| {
                    std::thread::sleep(std::time::Duration::from_micros(20));
                    std::thread::current().id()
                },
                |results| {
                    let makers: Vec<_> = results.map(Handed::into_inner).collect();
                    (std::thread::current().id(), makers)
                },
            );
            (caller, consumer, makers)
        });
        assert!(makers.contains(&consumer), "the consumer worked on no item");
        assert!(!makers.contains(&caller), "the caller worked on an item");
        let distinct: std::collections::HashSet<_> = makers.iter().collect();
        assert!(
            distinct.len() <= threads,
            "{} threads worked",
            distinct.len()
        );
    }

    /// Whether a run on `threads` threads ends in a panic, rather than
    /// hanging or finishing, when its work panics on the first item that
    /// `fails` picks, told whether the consumer is the one working on it.
    fn panics(threads: usize, fails: impl Fn(bool) -> bool + Sync) -> bool {
        let run = || {
            pool(threads).install(|| {
                let consumer = std::sync::OnceLock::new();
                map_in_order(
                    10_000,
                    |i| {
                        if fails(consumer.get() == Some(&std::thread::current().id())) {
                            panic!("a bug in the work on item {i}");
                        }
                        i
                    },
                    |results| {
                        consumer.get_or_init(|| std::thread::current().id());
                        results.count()
                    },
                )
            })
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).is_err()
    }

    #[test]
    fn a_panic_in_the_consumers_own_work_ends_the_run_instead_of_hanging_it() {
        let done = AtomicUsize::new(0);
        let fails = |by_consumer: bool| by_consumer && done.fetch_add(1, Ordering::SeqCst) == 40;
        assert!(panics(2, fails), "the panic was lost");
    }

    #[test]
    fn a_panic_in_a_workers_work_ends_the_run_instead_of_hanging_it() {
        let panicked = std::sync::atomic::AtomicBool::new(false);
        let fails = |by_consumer: bool| !by_consumer && !panicked.swap(true, Ordering::SeqCst);
        assert!(panics(3, fails), "the panic was lost");
    }

    #[test]
    fn one_item_or_none_needs_no_thread() {
        let caller = std::thread::current().id();
        let ids: Vec<_> = map_in_order(
            1,
            |_| std::thread::current().id(),
            |r| r.map(Handed::into_inner).collect(),
        );
        assert_eq!(ids, [caller]);
        let none: Vec<usize> = map_in_order(0, |i| i, |r| r.map(Handed::into_inner).collect());
        assert!(none.is_empty());
    }

    /// Records, when dropped, whether it is dropped by the thread that
    /// made it.
    struct Made<'a> {
        by: std::thread::ThreadId,
        elsewhere: &'a AtomicUsize,
    }

    impl Drop for Made<'_> {
        fn drop(&mut self) {
            if std::thread::current().id() != self.by {
                self.elsewhere.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn a_result_is_freed_by_the_thread_that_made_it() {
        let elsewhere = AtomicUsize::new(0);
        let threads = 2;
        let count = 3_000;
        let seen = pool(threads).install(|| {
            map_in_order(
                count,
                |_| Made {
                    by: std::thread::current().id(),
                    elsewhere: &elsewhere,
                },
                |results| results.count(),
            )
        });
        assert_eq!(seen, count);
        // Only what is handed back after its thread ran out of items is
        // freed elsewhere: at most a window's worth.
        let elsewhere = elsewhere.load(Ordering::SeqCst);
        assert!(
            elsewhere <= threads * AHEAD_PER_THREAD + threads,
            "{elsewhere} of {count} results were freed by another thread"
        );
    }
}
