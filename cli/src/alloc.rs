//! How the daemon's allocator gives memory back.
//!
//! glibc's malloc raises its mmap threshold each time a large block is freed, so after a
//! module's 15 MiB reply, later large blocks come from the heap and stay there when freed: a
//! daemon that served a few hostile replies kept over 100 MiB it no longer used. With a fixed
//! threshold, every block of [`MMAP_THRESHOLD`] bytes or more is its own mapping, returned to
//! the system when freed; and fewer arenas keep the per-thread free lists of the connection
//! threads from multiplying retained memory.

/// Blocks at least this large are mapped on their own and unmapped when freed.
const MMAP_THRESHOLD: i32 = 256 << 10;
/// Most malloc arenas the daemon's threads share.
const ARENA_MAX: i32 = 4;

/// Set the daemon's malloc parameters. Call first thing, before any other thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(
    unsafe_code,
    reason = "mallopt only sets glibc malloc parameters; called once, before other threads start"
)]
pub fn give_memory_back() {
    // SAFETY: `mallopt` takes two integers and touches only malloc's own settings; it is
    // called before the daemon starts any thread, so no allocation races with it.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_ARENA_MAX, ARENA_MAX);
    }
}

/// Other platforms keep their allocator's defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_memory_back() {}
