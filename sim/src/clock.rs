//! [`Clock`]: a thread that steps a simulated cluster in real time.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{Event, Sim};

/// Steps a [`Sim`] every `pace` of real time by the same amount of simulated time, and hands
/// the events of each step (when there are any) to a callback. Stops when dropped (or with
/// [`Clock::stop`]), after the step under way.
pub struct Clock {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("running", &self.thread.is_some())
            .finish()
    }
}

impl Clock {
    /// Starts the clock thread (named `sim-clock`) at the pace of the cluster's settings.
    pub fn start(
        sim: Arc<Sim>,
        on_events: impl FnMut(Vec<Event>) + Send + 'static,
    ) -> std::io::Result<Self> {
        let pace = sim.settings().pace;
        Self::start_with_pace(sim, pace, on_events)
    }

    /// Starts the clock thread with another pace.
    pub fn start_with_pace(
        sim: Arc<Sim>,
        pace: Duration,
        mut on_events: impl FnMut(Vec<Event>) + Send + 'static,
    ) -> std::io::Result<Self> {
        let pace = pace.max(Duration::from_millis(1));
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("sim-clock".to_owned())
            .spawn(move || {
                let (lock, cvar) = &*flag;
                let mut next = Instant::now() + pace;
                loop {
                    {
                        let mut stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
                        loop {
                            if *stopped {
                                return;
                            }
                            let now = Instant::now();
                            if now >= next {
                                break;
                            }
                            stopped = cvar
                                .wait_timeout(stopped, next - now)
                                .unwrap_or_else(PoisonError::into_inner)
                                .0;
                        }
                    }
                    // Simulated time follows real time: a late wake-up steps further.
                    let late = Instant::now().saturating_duration_since(next);
                    let dt = pace + late.min(pace * 10);
                    next = Instant::now() + pace;
                    let events = sim.step(dt);
                    if !events.is_empty() {
                        on_events(events);
                    }
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the clock and waits for its thread.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cvar.notify_all();
        if let Some(t) = self.thread.take() {
            // A panicking callback ends the thread; there is nothing more to stop.
            let _ = t.join();
        }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.halt();
    }
}
