//! The simulated cluster (`wasmgr-sim`) as a cluster source: every read answered by the
//! simulator, its clock driving `notify`, its commands served as a mon serves them.

use std::sync::{Arc, Mutex};

use wasmgr_sim::{Clock, Event, Priority, Sim};

use super::{
    ClusterCheck, ClusterSource, CommandOutput, CommandSig, LogLine, NotifySink, SourceError,
};

/// The simulator behind [`ClusterSource`], with its clock once started.
pub struct SimSource {
    sim: Arc<Sim>,
    /// Where events go, once [`ClusterSource::start`] was called; the clock runs from then on.
    sink: Mutex<Option<(NotifySink, Clock)>>,
}

impl SimSource {
    /// A simulated cluster from a settings string, e.g. `osds=12,seed=7,pace=1000`.
    pub fn from_config(config: &str) -> Result<SimSource, String> {
        let sim = Sim::from_config(config).map_err(|e| e.to_string())?;
        Ok(SimSource::new(Arc::new(sim)))
    }

    /// A source over `sim`.
    pub fn new(sim: Arc<Sim>) -> SimSource {
        SimSource {
            sim,
            sink: Mutex::new(None),
        }
    }

    /// The simulator, for tests that look at it.
    pub fn sim(&self) -> &Arc<Sim> {
        &self.sim
    }

    /// Advance the simulated clock by `dt` by hand and deliver what changed, as the clock
    /// would (tests give the clock a long pace and step it themselves).
    pub fn step(&self, dt: std::time::Duration) {
        let events = self.sim.step(dt);
        self.deliver(events);
    }

    fn deliver(&self, events: Vec<Event>) {
        let sink = self
            .sink
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(sink, _)| sink.clone());
        if let Some(sink) = sink {
            for e in events {
                sink(e.kind.as_str(), &e.id);
            }
        }
    }
}

fn not_found(e: wasmgr_sim::SimError) -> SourceError {
    match e {
        wasmgr_sim::SimError::NotFound { what, hint } => SourceError::NotFound { what, hint },
    }
}

fn priority(name: &str) -> Priority {
    match name {
        "debug" => Priority::Dbg,
        "sec" => Priority::Sec,
        "warn" => Priority::Wrn,
        "error" => Priority::Err,
        _ => Priority::Inf,
    }
}

impl ClusterSource for SimSource {
    fn get(&self, data_name: &str) -> Result<String, SourceError> {
        self.sim
            .get(data_name)
            .map(|s| s.to_string())
            .map_err(not_found)
    }

    fn get_server(&self, hostname: &str) -> Result<String, SourceError> {
        Ok(self.sim.get_server(hostname).to_string())
    }

    fn list_servers(&self) -> Result<String, SourceError> {
        Ok(self.sim.list_servers().to_string())
    }

    fn get_metadata(&self, svc_type: &str, svc_id: &str) -> Result<Option<String>, SourceError> {
        Ok(self
            .sim
            .get_metadata(svc_type, svc_id)
            .map(|s| s.to_string()))
    }

    fn get_daemon_status(
        &self,
        svc_type: &str,
        svc_id: &str,
    ) -> Result<Option<String>, SourceError> {
        Ok(self
            .sim
            .get_daemon_status(svc_type, svc_id)
            .map(|s| s.to_string()))
    }

    fn get_perf_schema(&self, svc_type: &str, svc_id: &str) -> Result<String, SourceError> {
        Ok(self.sim.get_perf_schema(svc_type, svc_id).to_string())
    }

    fn get_counter(&self, svc_type: &str, svc_id: &str, path: &str) -> Result<String, SourceError> {
        Ok(self.sim.get_counter(svc_type, svc_id, path).to_string())
    }

    fn get_latest(&self, svc_type: &str, svc_id: &str, path: &str) -> Result<String, SourceError> {
        Ok(self.sim.get_latest(svc_type, svc_id, path).to_string())
    }

    fn mgr_id(&self) -> String {
        self.sim.mgr_id()
    }

    fn ceph_option(&self, key: &str) -> Result<String, SourceError> {
        self.sim
            .ceph_option(key)
            .map(|s| s.to_string())
            .map_err(not_found)
    }

    fn version(&self) -> (String, String) {
        self.sim.version()
    }

    fn have_mon_connection(&self) -> bool {
        self.sim.have_mon_connection()
    }

    fn describe(&self) -> String {
        self.sim.describe()
    }

    fn command(&self, _svc_type: &str, _svc_id: &str, command: &str, inbuf: &str) -> CommandOutput {
        let reply = self.sim.handle_command(command, inbuf.as_bytes());
        self.deliver(reply.events);
        CommandOutput {
            retval: reply.retval,
            outb: reply.stdout,
            outs: reply.stderr,
        }
    }

    fn command_descriptions(&self) -> Vec<CommandSig> {
        wasmgr_sim::command_descriptions()
            .iter()
            .map(|d| CommandSig {
                sig: d.signature.to_owned(),
                help: d.help.to_owned(),
                perm: d.perm.to_owned(),
            })
            .collect()
    }

    fn start(&self, sink: NotifySink) {
        let on_events = {
            let sink = sink.clone();
            move |events: Vec<Event>| {
                for e in events {
                    sink(e.kind.as_str(), &e.id);
                }
            }
        };
        let initial = self.sim.initial_events();
        match Clock::start(self.sim.clone(), on_events) {
            Ok(clock) => {
                *self.sink.lock().unwrap_or_else(|p| p.into_inner()) = Some((sink, clock));
                self.deliver(initial);
            }
            Err(e) => tracing::error!("cannot start the simulated cluster's clock: {e}"),
        }
    }

    fn health_checks(&self) -> Vec<ClusterCheck> {
        self.sim
            .health_checks()
            .into_iter()
            .map(|c| ClusterCheck {
                error: c.severity == wasmgr_sim::Severity::Err,
                code: c.code,
                summary: c.summary,
                count: c.count,
                detail: c.detail,
            })
            .collect()
    }

    fn status(&self, json: bool) -> Option<String> {
        Some(self.sim.status(json))
    }

    fn cluster_log(&self, who: &str, channel: &str, priority_name: &str, message: &str) -> bool {
        let events = self.sim.log(who, channel, priority(priority_name), message);
        self.deliver(events);
        true
    }

    fn log_last(&self, n: usize, channel: &str) -> Option<Vec<LogLine>> {
        Some(
            self.sim
                .log_last(n, Priority::Inf, channel)
                .into_iter()
                .map(|e| LogLine {
                    json: e.to_json(),
                    line: e.line(),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_simulator_knows_the_same_data_names_as_the_host() {
        assert_eq!(super::super::DATA_NAMES, wasmgr_sim::DATA_NAMES);
        assert_eq!(
            super::super::UNDOCUMENTED_DATA_NAMES,
            wasmgr_sim::UNDOCUMENTED_DATA_NAMES
        );
        assert_eq!(super::super::DEVICE_PREFIX, wasmgr_sim::DEVICE_PREFIX);
    }
}
