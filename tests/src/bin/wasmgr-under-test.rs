//! The real `wasmgr` command line, under another name: the integration tests start it as the
//! daemon and as the client. (A second binary called `wasmgr` would collide with the CLI
//! crate's own in the shared target directory.)

fn main() {
    std::process::exit(wasmgr::main_os(std::env::args_os().skip(1)));
}
