//! The memory that documents checked at the same time may take together.
//!
//! A Markdown document takes many times its size once parsed: comrak's
//! syntax tree, then the document model. Files are checked in parallel, so
//! a size limit per file alone would let the threads together hold that
//! many times more. Each check of a file first takes its share of one
//! process-wide [`Budget`], an estimate made from the file's length before
//! it is read, and gives it back when the check is done: a file that does
//! not fit waits for others to finish, and one that would not fit even
//! alone runs when nothing else holds any.

use std::sync::{Condvar, Mutex, PoisonError};

use crate::engine::MAX_DOCUMENT_BYTES;

/// The most bytes a document takes while it is read, parsed and checked,
/// per byte of its text, for any construct: the worst that
/// `benches/amplification.rs` measures (unmatched emphasis delimiters,
/// about 320: a syntax node of some 300 bytes for each byte of text), with
/// a quarter to spare. That benchmark fails if a construct takes more.
pub const AMPLIFICATION: usize = 400;

/// The bytes that the documents checked at the same time may take together:
/// enough for the worst document of [`MAX_DOCUMENT_BYTES`] alone (200 MiB),
/// or a few dozen planning documents of tens of kilobytes at once, and
/// small next to the memory of any machine that runs a build.
pub const MEMORY_BUDGET: usize = 256 * 1024 * 1024;

/// A permit of this many bytes or more hands the memory freed under it back
/// to the system when dropped: more than a planning document of tens of
/// kilobytes takes, so that checking many of them pays nothing for it.
const TRIM_FROM: usize = MEMORY_BUDGET / 16;

/// The budget every parallel check of the process shares.
pub static SHARED: Budget = Budget::new(MEMORY_BUDGET);

/// What a document of `len` bytes may take while it is parsed and checked.
/// A file over [`MAX_DOCUMENT_BYTES`] is refused unparsed, so it takes
/// nothing more.
pub fn estimate(len: usize) -> usize {
    match len <= MAX_DOCUMENT_BYTES {
        true => len.saturating_mul(AMPLIFICATION),
        false => 0,
    }
}

/// A number of bytes that holders take from and give back, waiting while
/// too few are left.
#[derive(Debug)]
pub struct Budget {
    total: usize,
    left: Mutex<Left>,
    given_back: Condvar,
}

/// The bytes no permit holds, and how many threads wait for some.
#[derive(Debug)]
struct Left {
    bytes: usize,
    waiting: usize,
}

impl Budget {
    pub const fn new(total: usize) -> Self {
        Self {
            total,
            left: Mutex::new(Left {
                bytes: total,
                waiting: 0,
            }),
            given_back: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Left> {
        self.left.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `bytes` (at most the whole budget, so that a request larger
    /// than the budget runs alone rather than never), waiting until that
    /// many are left; they are given back when the [`Permit`] is dropped.
    /// A thread must not take a second permit while it holds one.
    pub fn acquire(&self, bytes: usize) -> Permit<'_> {
        let bytes = bytes.min(self.total);
        // The count stays right even if a holder panicked: it only changes
        // under the lock, in one statement.
        let mut left = self.lock();
        while left.bytes < bytes {
            left.waiting += 1;
            left = self
                .given_back
                .wait(left)
                .unwrap_or_else(PoisonError::into_inner);
            left.waiting -= 1;
        }
        left.bytes -= bytes;
        Permit {
            budget: self,
            bytes,
        }
    }

    /// The bytes no permit holds.
    #[cfg(test)]
    fn left(&self) -> usize {
        self.lock().bytes
    }
}

/// Bytes taken from a [`Budget`], given back on drop.
#[derive(Debug)]
#[must_use = "the bytes are given back as soon as the permit is dropped"]
pub struct Permit<'a> {
    budget: &'a Budget,
    bytes: usize,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        if self.bytes >= TRIM_FROM {
            give_freed_memory_back();
        }
        let mut left = self.budget.lock();
        left.bytes += self.bytes;
        // Waking costs a system call: only when somebody waits.
        let waiting = left.waiting > 0;
        drop(left);
        if waiting {
            self.budget.given_back.notify_all();
        }
    }
}

/// glibc keeps what a thread frees in that thread's own arena, for it to
/// use again: once large documents were checked on several threads in
/// turn, the process would hold the peak of each at once, however few
/// bytes are live. Trimming hands every arena's free pages back.
fn give_freed_memory_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free memory to the system; it may
    // be called at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_permit_gives_its_bytes_back_when_dropped() {
        let budget = Budget::new(100);
        let permit = budget.acquire(60);
        assert_eq!(budget.left(), 40);
        drop(permit);
        assert_eq!(budget.left(), 100);
    }

    #[test]
    fn a_request_larger_than_the_budget_runs_alone() {
        let budget = Budget::new(100);
        let permit = budget.acquire(1_000);
        assert_eq!(budget.left(), 0);
        drop(permit);
        assert_eq!(budget.left(), 100);
    }

    #[test]
    fn a_request_that_does_not_fit_waits_until_bytes_are_given_back() {
        let budget = Budget::new(100);
        let held = budget.acquire(70);
        let (sent, received) = mpsc::channel();
        thread::scope(|scope| {
            scope.spawn(|| {
                let _permit = budget.acquire(50);
                sent.send(()).unwrap();
            });
            // Not a timing assertion: the waiter cannot have got through
            // while 70 of 100 bytes are held, however long it is given.
            assert!(received.recv_timeout(Duration::from_millis(50)).is_err());
            drop(held);
            received.recv().unwrap();
        });
        assert_eq!(budget.left(), 100);
    }

    #[test]
    fn many_threads_never_hold_more_than_the_budget_and_all_finish() {
        let budget = Budget::new(100);
        let holding = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        thread::scope(|scope| {
            for thread in 0..16 {
                let (budget, holding, most) = (&budget, &holding, &most);
                scope.spawn(move || {
                    for round in 0..200 {
                        // 30 to 130 bytes: some alone take everything.
                        let bytes = 30 + (thread * 7 + round * 13) % 101;
                        let permit = budget.acquire(bytes);
                        let now = holding.fetch_add(permit.bytes, Ordering::SeqCst);
                        most.fetch_max(now + permit.bytes, Ordering::SeqCst);
                        thread::yield_now();
                        holding.fetch_sub(permit.bytes, Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 100);
        assert_eq!(budget.left(), 100);
    }

    #[test]
    fn the_estimate_grows_with_the_file_and_a_refused_file_takes_nothing() {
        assert_eq!(estimate(1_000), 1_000 * AMPLIFICATION);
        assert_eq!(
            estimate(MAX_DOCUMENT_BYTES),
            MAX_DOCUMENT_BYTES * AMPLIFICATION
        );
        assert_eq!(estimate(MAX_DOCUMENT_BYTES + 1), 0);
    }

    #[test]
    fn the_largest_document_fits_the_budget_alone() {
        assert!(estimate(MAX_DOCUMENT_BYTES) <= MEMORY_BUDGET);
    }
}
