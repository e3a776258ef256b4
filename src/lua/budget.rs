//! The time budget and the memory limit of one plugin call.
//!
//! # Time
//!
//! Luau calls an *interrupt* function at every safepoint (loop back-edges,
//! calls and returns, in any coroutine, under any `pcall`) and at every step
//! of its pattern matcher (`match()` in `lstrlib.cpp`). So a budget checked
//! there ends `while true do end`, a loop inside a coroutine, and the
//! pattern bomb `string.find(string.rep("a", 1e5), ".-.-.-.-.-.-.-.-b")`,
//! whose backtracking happens entirely inside one C call: this is the
//! pattern-bomb defence, and why the host uses Luau (see `mod.rs`).
//!
//! The interrupt runs millions of times a second in a pattern scan, so it
//! must cost next to nothing:
//!
//! - It is a plain C-ABI function installed in Luau's callbacks, not mlua's
//!   `set_interrupt`, which runs each interrupt as a protected Rust callback
//!   (measured: about 34 ns per interrupt, against about 4 ns).
//! - It does not read the clock (about 20 ns). A *watchdog* thread does,
//!   every [`TICK`], and marks the call's [`Watch`] spent once its deadline
//!   has passed; the interrupt only loads that atomic. Reading the clock
//!   every N interrupts instead would let a plugin escape by making each
//!   interrupt slow: N calls of `table.sort` on a big table between two
//!   readings.
//!
//! Once the deadline has passed the interrupt raises a Lua error at *every*
//! safepoint, so `pcall` cannot swallow the budget: the first safepoint
//! outside the `pcall` raises again. A call overshoots its budget by at most
//! one watchdog tick plus the longest stretch between two safepoints (one C
//! library call, bounded by the memory limit).
//!
//! The deadline is per thread: a Lua state never leaves the thread that made
//! it (mlua's `Lua` is not `Send`), so the calls of a thread's state are the
//! calls of that thread.
//!
//! # Memory
//!
//! mlua's allocator refuses allocations past a limit, raising a Lua memory
//! error. Each call may add its allowance to what the state holds when the
//! call starts: a `string.rep` of a GiB fails at once, a growing table when
//! it crosses the limit. What the host builds for the plugin is charged to
//! the same limit (see [`charged`]).

use std::cell::RefCell;
use std::ffi::CStr;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use mlua::{Lua, ffi};

/// How often the watchdog reads the clock while calls run: the most a call
/// overshoots its budget by, besides one library call.
const TICK: Duration = Duration::from_millis(2);

/// Ticks without any call before the watchdog sleeps until the next one.
const IDLE_TICKS: u32 = 50;

/// Set in a watch's state once its deadline has passed.
const SPENT: u64 = 1 << 63;

/// What a plugin that catches the budget error with `pcall` sees.
const SPENT_MESSAGE: &str = "time budget exhausted";

/// Frames searched for the plugin line where the budget ran out.
const LOCATION_DEPTH: c_int = 16;

/// The deadline of the call running on one thread, shared with the
/// watchdog: nanoseconds since [`epoch`] (at least 1), or 0 between calls;
/// the watchdog adds [`SPENT`] once it has passed.
struct Watch {
    state: AtomicU64,
}

/// Every thread's watch, for the watchdog to read.
static WATCHES: Mutex<Vec<Weak<Watch>>> = Mutex::new(Vec::new());
/// The watchdog is parked, waiting for a call.
static SLEEPING: AtomicBool = AtomicBool::new(false);
/// The watchdog thread; `None` if it could not be started.
static WATCHDOG: OnceLock<Option<Thread>> = OnceLock::new();

thread_local! {
    static WATCH: Arc<Watch> = {
        let watch = Arc::new(Watch { state: AtomicU64::new(0) });
        WATCHES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(&watch));
        watch
    };
    /// Where this thread's call ran out of time: `plugins/x.lua:12`.
    static SPENT_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn nanos_since_epoch() -> u64 {
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(SPENT - 1)
}

fn watchdog() -> Option<&'static Thread> {
    WATCHDOG
        .get_or_init(|| {
            thread::Builder::new()
                .name("tollgate-lua-watchdog".into())
                .spawn(watch)
                .ok()
                .map(|handle| handle.thread().clone())
        })
        .as_ref()
}

/// The watchdog: marks spent every call past its deadline, and sleeps while
/// no call runs.
fn watch() {
    let mut idle = 0;
    loop {
        thread::sleep(TICK);
        if mark_spent(nanos_since_epoch()) {
            idle = 0;
            continue;
        }
        idle += 1;
        if idle < IDLE_TICKS {
            continue;
        }
        // A call that starts after this store sees it and unparks us; one
        // that started before it is seen by the check that follows.
        SLEEPING.store(true, Ordering::SeqCst);
        if !mark_spent(nanos_since_epoch()) {
            thread::park();
        }
        SLEEPING.store(false, Ordering::SeqCst);
        idle = 0;
    }
}

/// Marks spent each running call whose deadline is before `now`; whether
/// any call is running. Forgets the watches of threads that have ended.
fn mark_spent(now: u64) -> bool {
    let mut watches = WATCHES.lock().unwrap_or_else(PoisonError::into_inner);
    let mut running = false;
    watches.retain(|watch| {
        let Some(watch) = watch.upgrade() else {
            return false;
        };
        let state = watch.state.load(Ordering::SeqCst);
        if state != 0 {
            running = true;
            if state & SPENT == 0 && now >= state {
                // Only if the same call still runs: a new deadline set
                // meanwhile must not be marked spent.
                let _ = watch.state.compare_exchange(
                    state,
                    state | SPENT,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
            }
        }
        true
    });
    running
}

/// Installs the interrupt in a new Lua state.
pub(super) fn install(lua: &Lua) {
    let state = lua.current_thread().state();
    // SAFETY: `lua_callbacks` returns the callbacks of the state's global
    // structure, shared by all its threads and valid while `lua` lives.
    // Setting `interrupt` is how Luau's embedders configure it, and mlua
    // sets no interrupt of its own (this crate never calls `set_interrupt`).
    unsafe {
        (*ffi::lua_callbacks(state)).interrupt = Some(interrupt);
    }
}

/// Whether the call running on this thread has spent its budget. Without a
/// watchdog (the thread could not be started) it reads the clock itself.
fn spent() -> bool {
    let Ok(state) = WATCH.try_with(|watch| watch.state.load(Ordering::Relaxed)) else {
        return false;
    };
    if state == 0 {
        return false;
    }
    if state & SPENT != 0 {
        return true;
    }
    if matches!(WATCHDOG.get(), Some(Some(_))) || nanos_since_epoch() < state {
        return false;
    }
    let _ = WATCH.try_with(|watch| watch.state.fetch_or(SPENT, Ordering::SeqCst));
    true
}

/// Luau's interrupt: raises an error once the call's deadline has passed.
unsafe extern "C-unwind" fn interrupt(state: *mut ffi::lua_State, gc: c_int) {
    // A garbage-collection step (`gc >= 0`) is no place to raise an error;
    // the next safepoint will do.
    if gc >= 0 || !spent() {
        return;
    }
    let first = SPENT_AT
        .try_with(|at| at.borrow().is_none())
        .unwrap_or(false);
    if first {
        // SAFETY: `state` is the running thread handed to us by Luau.
        let location = unsafe { location(state) };
        let _ = SPENT_AT.try_with(|at| at.replace(Some(location.unwrap_or_default())));
    }
    // SAFETY: Luau calls the interrupt at a safepoint where raising an error
    // is allowed: in the VM (protected) or in the pattern matcher (which
    // raises "pattern too complex" the same way). This frame owns nothing
    // that needs dropping, so unwinding past it (by C++ exception or
    // longjmp) leaks nothing.
    unsafe {
        ffi::lua_pushlstring(state, SPENT_MESSAGE.as_ptr().cast(), SPENT_MESSAGE.len());
        ffi::lua_error(state);
    }
}

/// `chunk:line` of the innermost Lua function on the stack (the running
/// function may be a C function such as `string.find`).
///
/// # Safety
///
/// `state` must be a live Luau thread.
unsafe fn location(state: *mut ffi::lua_State) -> Option<String> {
    for level in 0..LOCATION_DEPTH {
        // SAFETY: `lua_Debug` is a plain C struct for which all zeroes is a
        // valid (empty) value; `lua_getinfo` fills it for an existing level
        // and returns 0 past the last one. `short_src` then points into the
        // struct's own buffer, read before `debug` goes away.
        unsafe {
            let mut debug: ffi::lua_Debug = std::mem::zeroed();
            if ffi::lua_getinfo(state, level, c"sl".as_ptr(), &mut debug) == 0 {
                return None;
            }
            if debug.currentline > 0 && !debug.short_src.is_null() {
                let source = CStr::from_ptr(debug.short_src).to_string_lossy();
                return Some(format!("{source}:{}", debug.currentline));
            }
        }
    }
    None
}

/// The time budget of one call on this thread. Dropping it ends the budget
/// and restores any budget it interrupted (a call made by the host from
/// inside another call, in a state of its own).
pub(super) struct Deadline {
    saved: (u64, Option<String>),
}

impl Deadline {
    pub(super) fn start(timeout: Duration) -> Self {
        let timeout = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        let deadline = nanos_since_epoch()
            .saturating_add(timeout)
            .clamp(1, SPENT - 1);
        let state = WATCH
            .try_with(|watch| watch.state.swap(deadline, Ordering::SeqCst))
            .unwrap_or(0);
        let spent_at = SPENT_AT.try_with(RefCell::take).unwrap_or_default();
        if let Some(watchdog) = watchdog()
            && SLEEPING.load(Ordering::SeqCst)
        {
            watchdog.unpark();
        }
        Self {
            saved: (state, spent_at),
        }
    }

    /// `Some` when the budget ran out, with where when a Lua line was found.
    pub(super) fn spent(&self) -> Option<Option<String>> {
        let state = WATCH
            .try_with(|watch| watch.state.load(Ordering::SeqCst))
            .ok()?;
        (state & SPENT != 0).then(|| {
            SPENT_AT
                .try_with(|at| at.borrow().clone().filter(|at| !at.is_empty()))
                .ok()
                .flatten()
        })
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        let (state, spent_at) = std::mem::take(&mut self.saved);
        let _ = WATCH.try_with(|watch| watch.state.store(state, Ordering::SeqCst));
        let _ = SPENT_AT.try_with(|at| at.replace(spent_at));
    }
}

/// Lets the call that starts now add at most `allowance` bytes to the
/// memory the state holds.
pub(super) fn limit_memory(lua: &Lua, allowance: usize) -> mlua::Result<()> {
    lua.set_memory_limit(lua.used_memory().saturating_add(allowance))
        .map(drop)
}

/// Lifts the limit between calls, when only the host allocates.
pub(super) fn lift_memory_limit(lua: &Lua) -> mlua::Result<()> {
    lua.set_memory_limit(0).map(drop)
}

/// Runs host code that builds values for the plugin (`ctx`, the tables of
/// `doc:sections()`...) with the limit lifted, then charges what it built
/// to the plugin: if the state now holds more than the limit, even once
/// the garbage is collected, the call fails with a memory error as if the
/// plugin had allocated it.
///
/// While a limit is set, mlua runs every allocating operation of its API in
/// a protected call, so that an allocation failure never unwinds through
/// Rust frames; that made building a document's tables several times
/// slower. So the host builds first and counts after: a call overshoots its
/// limit by at most one value the host builds (a few times the document,
/// which is at most 16 MiB), and a plugin that keeps what the host gave it
/// (`doc:lines()` in a loop) ends at its limit like one that builds tables
/// itself.
pub(super) fn charged<R>(lua: &Lua, build: impl FnOnce() -> mlua::Result<R>) -> mlua::Result<R> {
    let limit = lua.set_memory_limit(0)?;
    let built = build();
    lua.set_memory_limit(limit)?;
    let built = built?;
    if limit > 0 && lua.used_memory() > limit {
        lua.gc_collect()?;
        if lua.used_memory() > limit {
            drop(built);
            return Err(mlua::Error::MemoryError(
                "the values the host built for the plugin are over its memory limit".into(),
            ));
        }
    }
    Ok(built)
}
