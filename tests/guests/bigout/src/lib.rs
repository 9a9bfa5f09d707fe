//! Test guest: a command with a large output, for the output size cap.

use wasmgr_guest::{ErrorResponse, HandleCommandResult, MgrModule};

const MIB: usize = 1 << 20;

#[derive(Default)]
struct Bigout;

impl MgrModule for Bigout {
    const NAME: &'static str = "bigout";
    const VERSION: &'static str = "0.1.0";
}

#[wasmgr_guest::commands]
impl Bigout {
    /// Print mib MiB of 'x'
    #[read("bigout huge")]
    fn huge(
        &mut self,
        #[arg(range = 1..=48)] mib: i64,
    ) -> Result<HandleCommandResult, ErrorResponse> {
        let mib = usize::try_from(mib)
            .ok()
            .filter(|m| (1..=48).contains(m))
            .ok_or_else(|| ErrorResponse::invalid(format!("mib must be 1 to 48, not {mib}")))?;
        Ok(HandleCommandResult::ok("x".repeat(mib * MIB)))
    }

    /// Answer at once
    #[read("bigout ok")]
    fn ok(&mut self) -> HandleCommandResult {
        HandleCommandResult::ok("ok")
    }
}

wasmgr_guest::export_module!(Bigout);
