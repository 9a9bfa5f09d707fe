//! The health board: every module's health checks plus the host's own (a failed module is
//! `MGR_MODULE_ERROR`, as in Ceph), rendered in the shapes of `ceph health [detail]`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::bindings::{HealthCheck, Severity};

/// A health check code that another module raises already.
#[derive(Debug, thiserror::Error)]
#[error(
    "health check code {code} is raised by module '{module}'; raise a code of this module's own"
)]
pub struct CodeTaken {
    /// The code.
    pub code: String,
    /// The module raising it.
    pub module: String,
}

/// Health checks by the module that raised them.
#[derive(Default)]
pub struct HealthBoard {
    checks: Mutex<BTreeMap<String, Vec<HealthCheck>>>,
}

/// One check in a report, from a module or from the host.
#[derive(Clone, Debug)]
pub struct Check {
    /// The check's code.
    pub code: String,
    /// Warning or error.
    pub severity: Severity,
    /// One-line summary.
    pub summary: String,
    /// How many things it is about.
    pub count: u64,
    /// One line per thing.
    pub detail: Vec<String>,
    /// The modules that raised it; empty for the daemon's own checks.
    pub modules: Vec<String>,
}

impl HealthBoard {
    /// Replace the checks raised by `module`, if it is still `active`. The flag is read under
    /// the board's lock, so a module stopped (flag cleared, then [`HealthBoard::clear_module`])
    /// while one of its calls was raising checks cannot leave them behind.
    ///
    /// A code another module raises now is refused (its name is the error): one module cannot
    /// change what another's check says, nor add to its count.
    pub fn set_module_checks(
        &self,
        module: &str,
        checks: Vec<HealthCheck>,
        active: &AtomicBool,
    ) -> Result<(), CodeTaken> {
        let mut map = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        if !active.load(Ordering::Acquire) {
            return Ok(());
        }
        for (other, theirs) in map.iter().filter(|(m, _)| m.as_str() != module) {
            if let Some(c) = checks
                .iter()
                .find(|c| theirs.iter().any(|t| t.code == c.code))
            {
                return Err(CodeTaken {
                    code: c.code.clone(),
                    module: other.clone(),
                });
            }
        }
        if checks.is_empty() {
            map.remove(module);
        } else {
            map.insert(module.to_owned(), checks);
        }
        Ok(())
    }

    /// Forget `module`'s checks (it was disabled or failed).
    pub fn clear_module(&self, module: &str) {
        self.checks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(module);
    }

    /// Every module check, merged by code (two modules raising the same code add up, and
    /// the check names both). Counts saturate rather than overflow.
    pub fn module_checks(&self) -> Vec<Check> {
        let map = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        let mut merged: BTreeMap<String, Check> = BTreeMap::new();
        for (module, checks) in map.iter() {
            for c in checks {
                let e = merged.entry(c.code.clone()).or_insert_with(|| Check {
                    code: c.code.clone(),
                    severity: c.severity,
                    summary: c.summary.clone(),
                    count: 0,
                    detail: Vec::new(),
                    modules: Vec::new(),
                });
                if c.severity == Severity::Error {
                    e.severity = Severity::Error;
                }
                e.count = e.count.saturating_add(c.count);
                e.detail.extend(c.detail.iter().cloned());
                e.modules.push(module.clone());
            }
        }
        merged.into_values().collect()
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Warning => "HEALTH_WARN",
        Severity::Error => "HEALTH_ERR",
    }
}

/// The overall status of a set of checks.
pub fn status(checks: &[Check]) -> &'static str {
    if checks.iter().any(|c| c.severity == Severity::Error) {
        "HEALTH_ERR"
    } else if checks.is_empty() {
        "HEALTH_OK"
    } else {
        "HEALTH_WARN"
    }
}

/// `ceph health detail -f json`'s shape: status, checks by code with severity, summary
/// (message, count), detail messages, muted; and mutes.
pub fn to_json(checks: &[Check], detail: bool) -> Value {
    let mut map = serde_json::Map::new();
    for c in checks {
        let mut check = json!({
            "severity": severity_name(c.severity),
            "summary": {"message": c.summary, "count": c.count},
        });
        if detail {
            check["detail"] = c.detail.iter().map(|d| json!({"message": d})).collect();
        }
        check["muted"] = json!(false);
        if !c.modules.is_empty() {
            check["modules"] = json!(c.modules);
        }
        map.insert(c.code.clone(), check);
    }
    json!({"status": status(checks), "checks": map, "mutes": []})
}

/// `ceph health [detail]`'s plain text.
pub fn to_plain(checks: &[Check], detail: bool) -> String {
    let st = status(checks);
    if checks.is_empty() {
        return format!("{st}\n");
    }
    if !detail {
        let summaries: Vec<&str> = checks.iter().map(|c| c.summary.as_str()).collect();
        return format!("{st} {}\n", summaries.join("; "));
    }
    let mut out = format!(
        "{st} {}\n",
        checks
            .iter()
            .map(|c| c.summary.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    for c in checks {
        let tag = if c.severity == Severity::Error {
            "ERR"
        } else {
            "WRN"
        };
        let from = match c.modules.as_slice() {
            [] => String::new(),
            [one] => format!(" (module {one})"),
            many => format!(" (modules {})", many.join(", ")),
        };
        out.push_str(&format!("[{tag}] {}{from}: {}\n", c.code, c.summary));
        for d in &c.detail {
            out.push_str(&format!("    {d}\n"));
        }
    }
    out
}
