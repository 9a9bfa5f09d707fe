//! The way back from a module's host calls to the supervisor: a command's completion cues the
//! module that sent it, and a remote call reaches another module. Host calls run inside a
//! module's store, which holds only its `ModuleEnv`; the link is set once the supervisor exists.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use crate::bindings::{NotifyKind, RemoteError};
use crate::supervisor::Supervisor;

/// A late-bound handle on the supervisor, shared by every module's environment.
#[derive(Default)]
pub struct Link {
    supervisor: OnceLock<Weak<Supervisor>>,
}

impl Link {
    /// A link to be bound later with [`Link::bind`].
    pub fn new() -> Arc<Link> {
        Arc::new(Link::default())
    }

    /// Bind the link to `supervisor` (once; later binds are ignored).
    pub fn bind(&self, supervisor: &Arc<Supervisor>) {
        let _ = self.supervisor.set(Arc::downgrade(supervisor));
    }

    fn supervisor(&self) -> Option<Arc<Supervisor>> {
        self.supervisor.get().and_then(Weak::upgrade)
    }

    /// Cue module `name` alone with `notify(kind, id)`, whatever it subscribed to.
    pub fn notify_module(&self, name: &str, kind: NotifyKind, id: &str) {
        if let Some(sup) = self.supervisor() {
            sup.notify_module(name, kind, id);
        }
    }

    /// Cue every module subscribed to `kind`.
    pub fn notify_all(&self, kind: NotifyKind, id: &str) {
        if let Some(sup) = self.supervisor() {
            sup.notify(kind, id);
        }
    }

    /// Queue the ticks that are due (called on every epoch tick).
    pub fn run_due_ticks(&self) {
        if let Some(sup) = self.supervisor() {
            sup.run_due_ticks();
        }
    }

    /// Call `method` of module `to` for module `from`, within `budget`.
    pub fn call_remote(
        &self,
        from: &str,
        to: &str,
        method: &str,
        args: &str,
        budget: Duration,
    ) -> Result<String, RemoteError> {
        match self.supervisor() {
            Some(sup) => sup.call_remote(from, to, method, args, budget),
            None => Err(RemoteError::NotEnabled(format!(
                "module '{to}' is not enabled: the daemon is stopping"
            ))),
        }
    }
}
