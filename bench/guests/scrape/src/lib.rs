//! Bench guest: a scrape-style module, as ceph's `prometheus` module is one. `scrape metrics`
//! reads `osd_map`, `osd_stats`, `pg_summary` and `df` and answers their metrics in the
//! Prometheus text format (see `render.rs`, which the bench's native baseline shares).
//! `scrape fetch` only reads the four documents and answers their total length: the cost of
//! getting them into the module.

mod render;

use wasmgr_guest::errno::EINVAL;
use wasmgr_guest::{ErrorResponse, HandleCommandResult, MgrModule, cluster};

wasmgr_guest::manifest!(
    r#"
[requests]
get = ["*"]
"#
);

#[derive(Default)]
struct Scrape;

impl MgrModule for Scrape {
    const NAME: &'static str = "scrape";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Scrape {
    /// The cluster's metrics in the Prometheus text format
    #[read("scrape metrics")]
    fn metrics(&mut self) -> Result<HandleCommandResult, ErrorResponse> {
        let mut out = String::new();
        for name in render::DOCS {
            let json = cluster::get_raw(name)?;
            render::render(name, &json, &mut out).map_err(|e| ErrorResponse::new(-EINVAL, e))?;
        }
        Ok(HandleCommandResult::ok(out))
    }

    /// The total length of the documents `scrape metrics` reads
    #[read("scrape fetch")]
    fn fetch(&mut self) -> Result<HandleCommandResult, ErrorResponse> {
        let mut total = 0;
        for name in render::DOCS {
            total += cluster::get_raw(name)?.len();
        }
        Ok(HandleCommandResult::ok(total.to_string()))
    }
}

wasmgr_guest::export_module!(Scrape);
