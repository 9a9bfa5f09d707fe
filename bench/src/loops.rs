//! The `compute` guest's Collatz loop as cranelift compiles it, replayed natively in three
//! shapes (x86-64 inline assembly), to show where the fuel + deadline overhead comes from:
//!
//! - [`Shape::Plain`]: the loop as compiled with both limits off, every value in a register;
//! - [`Shape::Checks`]: the same loop with wasmtime's fuel check (leave when a negative
//!   counter reaches zero, add the block's cost to it) and epoch check (load the engine's
//!   epoch counter, compare with the deadline) on every iteration, laid out as compiled, every
//!   value in a register;
//! - [`Shape::Spilled`]: the same checks with the values cranelift keeps in stack slots once
//!   epoch interruption is on: the step counter (loaded, incremented and stored back every
//!   step), the epoch counter's address (stored, then reloaded for the next step) and the
//!   deadline (reloaded).
//!
//! The inner loops follow, instruction by instruction, the guest's compiled inner loop with
//! both limits off and with both on (`wasmgr-bench compile`, then `objdump -d`; see
//! BENCHMARKS.md), with other register names and the out-of-fuel and deadline calls replaced
//! by leaving the loop. The outer loop (once per start value, ~1 % of the steps) is a plain
//! counted loop in all three, without the compiled one's own checks. Comparing the three splits
//! the overhead of the limits between the checks themselves (with their layout: the fuel check
//! jumps over its inline out-of-fuel call every step) and the stack slots.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use anyhow::{Result, bail};

/// The three shapes of the loop.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    Plain,
    Checks,
    Spilled,
}

/// An epoch counter advanced every [`wasmgr_runtime::limits::EPOCH_TICK`] by a thread of its
/// own, as the engine's is, for the replayed epoch checks to load.
pub struct Epoch {
    counter: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    ticker: Option<thread::JoinHandle<()>>,
}

impl Epoch {
    pub fn start() -> Result<Epoch> {
        let counter = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (counter.clone(), stop.clone());
        let ticker = thread::Builder::new()
            .name("bench-epoch".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    thread::sleep(wasmgr_runtime::limits::EPOCH_TICK);
                    c.fetch_add(1, Ordering::Relaxed);
                }
            })?;
        Ok(Epoch {
            counter,
            stop,
            ticker: Some(ticker),
        })
    }

    /// Total Collatz steps of 1..=n, computed by the loop in `shape`.
    pub fn run(&self, shape: Shape, n: u64) -> Result<u64> {
        let total = match shape {
            Shape::Plain => plain(n),
            Shape::Checks => checks(n, &self.counter, DEADLINE),
            Shape::Spilled => spilled(n, &self.counter, DEADLINE),
        };
        if total == u64::MAX {
            bail!("the {shape:?} loop left through its fuel or epoch check");
        }
        Ok(total)
    }
}

impl Drop for Epoch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

/// The fuel counter's start: wasmtime counts fuel up from minus the budget to zero.
const FUEL: u64 = 1 << 60;

/// The deadline the epoch checks compare with in the bench: never reached, as in a call that
/// finishes in time.
const DEADLINE: u64 = u64::MAX;

/// Both limits off.
fn plain(n: u64) -> u64 {
    let total: u64;
    // SAFETY: register arithmetic only; no memory is touched.
    #[allow(unsafe_code, reason = "inline assembly replaying compiled wasm")]
    unsafe {
        std::arch::asm!(
            "xor {total}, {total}",
            "mov {start}, 1",
            "2:",
            "mov {x}, {start}",
            "cmp {x}, 1",
            "je 4f",
            "3:",
            "mov {half}, {x}",
            "shr {half}, 1",
            "imul {next}, {x}, 3",
            "add {next}, 1",
            "test {x}, 1",
            "cmove {next}, {half}",
            "add {total}, 1",
            "cmp {next}, 1",
            "je 4f",
            "mov {x}, {next}",
            "jmp 3b",
            "4:",
            "add {start}, 1",
            "cmp {start}, {n}",
            "jbe 2b",
            n = in(reg) n,
            total = out(reg) total,
            start = out(reg) _,
            x = out(reg) _,
            half = out(reg) _,
            next = out(reg) _,
            options(nostack, nomem),
        );
    }
    total
}

/// Fuel and epoch checks, every value in a register. Returns `u64::MAX` if a check fires.
fn checks(n: u64, epoch: &AtomicU64, deadline: u64) -> u64 {
    let total: u64;
    // SAFETY: the only memory read is `epoch`, an aligned u64 that outlives the call (an
    // aligned 8-byte load is atomic on x86-64, as wasmtime's own epoch check relies on).
    #[allow(unsafe_code, reason = "inline assembly replaying compiled wasm")]
    unsafe {
        std::arch::asm!(
            "xor {total}, {total}",
            "mov {fuel}, {budget}",
            "neg {fuel}",
            "mov {start}, 1",
            "2:",
            "mov {x}, {start}",
            "cmp {x}, 1",
            "je 4f",
            "3:",
            "test {fuel}, {fuel}",
            "jl 7f",
            "jmp 9f",
            "7:",
            "mov {half}, [{epoch}]",
            "cmp {half}, {deadline}",
            "jae 9f",
            "mov {half}, {x}",
            "shr {half}, 1",
            "imul {next}, {x}, 3",
            "add {next}, 1",
            "test {x}, 1",
            "cmove {next}, {half}",
            "add {fuel}, 0x15",
            "add {total}, 1",
            "cmp {next}, 1",
            "je 4f",
            "mov {x}, {next}",
            "jmp 3b",
            "4:",
            "add {start}, 1",
            "cmp {start}, {n}",
            "jbe 2b",
            "jmp 5f",
            "9:",
            "mov {total}, -1",
            "5:",
            n = in(reg) n,
            epoch = in(reg) epoch.as_ptr(),
            deadline = in(reg) deadline,
            budget = in(reg) FUEL,
            total = out(reg) total,
            fuel = out(reg) _,
            start = out(reg) _,
            x = out(reg) _,
            half = out(reg) _,
            next = out(reg) _,
            options(nostack, readonly),
        );
    }
    total
}

/// Fuel and epoch checks with the step counter, the epoch counter's address and the deadline
/// in stack slots, as cranelift allocates them. Returns `u64::MAX` if a check fires.
fn spilled(n: u64, epoch: &AtomicU64, deadline: u64) -> u64 {
    let total: u64;
    // SAFETY: reads `epoch` as in `checks`; the stack slots are 64 bytes below the stack
    // pointer that this block reserves and releases itself (no `nostack`, so no red zone is
    // in use).
    #[allow(unsafe_code, reason = "inline assembly replaying compiled wasm")]
    unsafe {
        std::arch::asm!(
            "sub rsp, 64",
            "mov qword ptr [rsp], 0",
            "mov [rsp + 8], {epoch}",
            "mov [rsp + 16], {deadline}",
            "mov {fuel}, {budget}",
            "neg {fuel}",
            "mov {start}, 1",
            "2:",
            "mov {x}, {start}",
            "cmp {x}, 1",
            "je 4f",
            "3:",
            "test {fuel}, {fuel}",
            "jl 7f",
            "jmp 9f",
            "7:",
            "mov {half}, [{epoch}]",
            "mov {next}, [rsp + 16]",
            "mov [rsp + 8], {epoch}",
            "cmp {half}, {next}",
            "jae 9f",
            "mov {half}, {x}",
            "shr {half}, 1",
            "imul {next}, {x}, 3",
            "add {next}, 1",
            "test {x}, 1",
            "cmove {next}, {half}",
            "add {fuel}, 0x15",
            "mov {half}, [rsp]",
            "add {half}, 1",
            "cmp {next}, 1",
            "je 6f",
            "mov {epoch}, [rsp + 8]",
            "mov {x}, {next}",
            "mov [rsp], {half}",
            "jmp 3b",
            "6:",
            "mov [rsp], {half}",
            "4:",
            "add {start}, 1",
            "cmp {start}, {n}",
            "jbe 2b",
            "jmp 5f",
            "9:",
            "mov qword ptr [rsp], -1",
            "5:",
            "mov {total}, [rsp]",
            "add rsp, 64",
            n = in(reg) n,
            epoch = inout(reg) epoch.as_ptr() => _,
            deadline = in(reg) deadline,
            budget = in(reg) FUEL,
            total = out(reg) total,
            fuel = out(reg) _,
            start = out(reg) _,
            x = out(reg) _,
            half = out(reg) _,
            next = out(reg) _,
        );
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_counts_the_same_collatz_steps_as_rust() {
        let epoch = Epoch::start().unwrap();
        for n in [0, 1, 2, 3, 27, 1000] {
            let want = crate::cases::collatz_steps(n);
            for shape in [Shape::Plain, Shape::Checks, Shape::Spilled] {
                assert_eq!(epoch.run(shape, n).unwrap(), want, "{shape:?}, n = {n}");
            }
        }
    }

    #[test]
    fn the_epoch_check_leaves_the_loop_once_the_deadline_has_passed() {
        let epoch = AtomicU64::new(5);
        assert_eq!(checks(27, &epoch, 5), u64::MAX);
        assert_eq!(spilled(27, &epoch, 5), u64::MAX);
        assert_eq!(checks(27, &epoch, 6), crate::cases::collatz_steps(27));
        assert_eq!(spilled(27, &epoch, 6), crate::cases::collatz_steps(27));
    }
}
