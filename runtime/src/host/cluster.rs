//! `wasmgr:mgr/cluster`: read-only cluster state from the configured state source.

use super::{ModuleCtx, error};
use crate::bindings::wasmgr::mgr::cluster::Host;
use crate::bindings::{ErrorCode, GuestError};
use crate::caps::{Cap, Pattern, ReadCall};
use crate::cluster::SourceError;

/// Bytes of a name a module passes (a data name, host, daemon or counter path). None of the
/// cluster's names is anywhere near this long; the bound keeps error messages, which quote the
/// name, short.
const NAME_BYTES: usize = 1024;

/// Refuses a name over [`NAME_BYTES`].
fn bounded(what: &str, s: &str) -> Result<(), GuestError> {
    if s.len() > NAME_BYTES {
        return Err(error(
            ErrorCode::NotFound,
            format!(
                "no {what} '{}': it is {} bytes long, and none is longer than {NAME_BYTES}",
                crate::sanitize::quote(s),
                s.len()
            ),
        ));
    }
    Ok(())
}

fn guest(e: SourceError) -> GuestError {
    match e {
        SourceError::NotFound { .. } => error(ErrorCode::NotFound, e.to_string()),
        other => error(ErrorCode::Io, other.to_string()),
    }
}

impl Host for ModuleCtx {
    fn get(&mut self, data_name: String) -> Result<String, GuestError> {
        bounded("cluster data name", &data_name)?;
        self.env
            .allow(Cap::Get(Pattern::Exact(data_name.clone())))?;
        self.env.cluster.get(&data_name).map_err(guest)
    }

    fn get_server(&mut self, hostname: String) -> Result<String, GuestError> {
        bounded("host", &hostname)?;
        self.env.allow(Cap::Read(ReadCall::Servers))?;
        self.env.cluster.get_server(&hostname).map_err(guest)
    }

    fn list_servers(&mut self) -> Result<String, GuestError> {
        self.env.allow(Cap::Read(ReadCall::Servers))?;
        self.env.cluster.list_servers().map_err(guest)
    }

    fn get_metadata(
        &mut self,
        svc_type: String,
        svc_id: String,
    ) -> Result<Option<String>, GuestError> {
        bounded("daemon", &svc_type)?;
        bounded("daemon", &svc_id)?;
        self.env.allow(Cap::Read(ReadCall::Metadata))?;
        self.env
            .cluster
            .get_metadata(&svc_type, &svc_id)
            .map_err(guest)
    }

    fn get_daemon_status(
        &mut self,
        svc_type: String,
        svc_id: String,
    ) -> Result<Option<String>, GuestError> {
        bounded("daemon", &svc_type)?;
        bounded("daemon", &svc_id)?;
        self.env.allow(Cap::Read(ReadCall::Metadata))?;
        self.env
            .cluster
            .get_daemon_status(&svc_type, &svc_id)
            .map_err(guest)
    }

    fn get_perf_schema(&mut self, svc_type: String, svc_id: String) -> Result<String, GuestError> {
        bounded("daemon", &svc_type)?;
        bounded("daemon", &svc_id)?;
        self.env.allow(Cap::Read(ReadCall::Perf))?;
        self.env
            .cluster
            .get_perf_schema(&svc_type, &svc_id)
            .map_err(guest)
    }

    fn get_counter(
        &mut self,
        svc_type: String,
        svc_id: String,
        path: String,
    ) -> Result<String, GuestError> {
        bounded("daemon", &svc_type)?;
        bounded("daemon", &svc_id)?;
        bounded("counter", &path)?;
        self.env.allow(Cap::Read(ReadCall::Perf))?;
        self.env
            .cluster
            .get_counter(&svc_type, &svc_id, &path)
            .map_err(guest)
    }

    fn get_latest(
        &mut self,
        svc_type: String,
        svc_id: String,
        path: String,
    ) -> Result<String, GuestError> {
        bounded("daemon", &svc_type)?;
        bounded("daemon", &svc_id)?;
        bounded("counter", &path)?;
        self.env.allow(Cap::Read(ReadCall::Perf))?;
        self.env
            .cluster
            .get_latest(&svc_type, &svc_id, &path)
            .map_err(guest)
    }

    fn get_mgr_id(&mut self) -> String {
        self.env.mgr_id.clone()
    }

    fn get_ceph_option(&mut self, key: String) -> Result<String, GuestError> {
        bounded("Ceph option", &key)?;
        self.env.allow(Cap::Read(ReadCall::CephOption))?;
        self.env.cluster.ceph_option(&key).map_err(guest)
    }

    fn version(&mut self) -> (String, String) {
        self.env.cluster.version()
    }

    fn have_mon_connection(&mut self) -> bool {
        self.env.cluster.have_mon_connection()
    }
}
