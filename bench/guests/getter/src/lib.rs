//! Bench guest: `cluster.get(name)` through the host, for the cost of handing a large document
//! to a module.
//!
//! `getter len <name>` reads the document and answers only its length, so what the bench
//! times is the host call (the source's answer, the copy into this module's memory) and not a
//! large reply.

use wasmgr_guest::{ErrorResponse, HandleCommandResult, MgrModule, cluster};

wasmgr_guest::manifest!(
    r#"
[requests]
get = ["*"]
"#
);

#[derive(Default)]
struct Getter;

impl MgrModule for Getter {
    const NAME: &'static str = "getter";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Getter {
    /// The length in bytes of `get(<name>)`
    #[read("getter len")]
    fn len(&mut self, name: String) -> Result<HandleCommandResult, ErrorResponse> {
        let doc = cluster::get_raw(&name)?;
        Ok(HandleCommandResult::ok(doc.len().to_string()))
    }
}

wasmgr_guest::export_module!(Getter);
