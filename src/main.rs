fn main() {
    keep_freed_memory();
    std::process::exit(tollgate::cli::main());
}

/// glibc takes each block of 128 KiB or more from the kernel anew and gives
/// free memory at the top of the heap back soon: a short run then pays a
/// page fault for every 4 KiB it touches again (a regex compiler frees a
/// 320 KiB table that the document's model would reuse). Blocks up to
/// 1 MiB come from the heap, and up to 2 MiB of it stays for reuse.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: `mallopt` only sets two allocator parameters, before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 2 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
