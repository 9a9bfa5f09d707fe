//! `wasmgr:mgr/remote`: calls to other modules (`MgrModule.remote`), through the supervisor.

use std::time::{Duration, Instant};

use super::ModuleCtx;
use crate::bindings::RemoteError;
use crate::bindings::wasmgr::mgr::remote::Host;
use crate::limits;
use crate::sanitize::quote;

impl Host for ModuleCtx {
    fn call(
        &mut self,
        module: String,
        method: String,
        args_json: String,
    ) -> Result<String, RemoteError> {
        if module.len() > limits::NAME_BYTES || method.len() > limits::NAME_BYTES {
            return Err(RemoteError::NoSuchMethod(format!(
                "no method '{}' of module '{}': names are at most {} bytes",
                quote(&method),
                quote(&module),
                limits::NAME_BYTES
            )));
        }
        let access =
            crate::caps::Cap::Remote(crate::caps::Pattern::Exact(format!("{module}.{method}")));
        if let Err(denied) = self.env.allow(access) {
            return Err(RemoteError::Failed(format!(
                "access denied: {}",
                denied.message
            )));
        }
        if serde_json::from_str::<serde::de::IgnoredAny>(&args_json).is_err() {
            return Err(RemoteError::Failed(
                "the arguments are not JSON: pass them as a JSON array, e.g. [1, \"x\"]".into(),
            ));
        }
        // The callee's time is the caller's: it gets what is left of this call's deadline.
        let budget = self.deadline.map_or(Duration::ZERO, |d| {
            d.saturating_duration_since(Instant::now())
        });
        self.env
            .link
            .call_remote(&self.env.name, &module, &method, &args_json, budget)
    }
}
