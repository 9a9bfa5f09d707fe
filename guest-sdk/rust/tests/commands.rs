//! `#[commands]` end to end on the host: declarations and dispatch, without host calls.

use serde::Serialize;
use wasmgr_guest::__private::Call;
use wasmgr_guest::{
    ArgRange, ArgType, Commands, ErrorResponse, HandleCommandResult, ObjectName, Perm, errno,
};

wasmgr_guest::choices! {
    enum Speed {
        Fast = "fast",
        Slow = "slow",
    }
}

#[derive(Default)]
struct Probe {
    calls: u32,
}

#[derive(Serialize)]
struct Echo {
    n: i64,
    speed: String,
}

#[wasmgr_guest::commands]
impl Probe {
    /// Put an object.
    ///
    /// Only the first paragraph is the description.
    #[write("probe put")]
    fn put(
        &mut self,
        inbuf: &str,
        oid: ObjectName,
        tags: Option<Vec<String>>,
    ) -> HandleCommandResult {
        self.calls += 1;
        HandleCommandResult::ok(format!(
            "{oid}:{}:{}",
            inbuf.len(),
            tags.unwrap_or_default().join(",")
        ))
    }

    /// Echo typed arguments
    #[read("probe echo", responder, poll)]
    fn echo(
        &mut self,
        #[arg(range = 1..=48)] n: i64,
        speed: Option<Speed>,
    ) -> Result<Echo, ErrorResponse> {
        Ok(Echo {
            n,
            speed: speed.map_or("none", Speed::as_str).to_owned(),
        })
    }

    /// Pick a mode
    #[command("probe mode", perm = "w", empty_responder)]
    fn mode(
        &self,
        #[arg(choices = ["on", "off"])] mode: String,
        #[arg(range = 0.0..=1.0)] ratio: Option<f64>,
        #[arg(goodchars = "[a-z]")] r#type: Option<String>,
    ) -> Result<(), ErrorResponse> {
        let _ = (ratio, r#type);
        if mode == "off" {
            Err(ErrorResponse::new(-errno::EBUSY, "cannot"))
        } else {
            Ok(())
        }
    }
}

fn run(probe: &mut Probe, cmd: &str, inbuf: &str) -> HandleCommandResult {
    match Call::parse(cmd, inbuf) {
        Ok(call) => probe
            .dispatch(&call)
            .unwrap_or_else(|| HandleCommandResult::error(-errno::EINVAL, "no such command")),
        Err(e) => e.into(),
    }
}

#[test]
fn declarations_come_from_the_handler_signatures() {
    let decls = Probe::commands();
    let prefixes: Vec<&str> = decls.iter().map(|d| d.prefix.as_str()).collect();
    assert_eq!(prefixes, ["probe put", "probe echo", "probe mode"]);

    let put = &decls[0];
    assert_eq!(put.desc, "Put an object.");
    assert_eq!(put.perm, Perm::Rw);
    assert!(!put.poll);
    let args: Vec<(&str, ArgType, bool, bool)> = put
        .args
        .iter()
        .map(|a| (a.name.as_str(), a.type_, a.required, a.repeated))
        .collect();
    assert_eq!(
        args,
        [
            ("oid", ArgType::CephObjectname, true, false),
            ("tags", ArgType::CephString, false, true)
        ]
    );

    let echo = &decls[1];
    assert_eq!((echo.perm, echo.poll), (Perm::R, true));
    assert!(matches!(
        echo.args[0].range,
        Some(ArgRange::Int((Some(1), Some(48))))
    ));
    assert_eq!(echo.args[1].type_, ArgType::CephChoices);
    assert_eq!(echo.args[1].choices, ["fast", "slow"]);

    let mode = &decls[2];
    assert_eq!(mode.perm, Perm::W);
    assert_eq!(
        (mode.args[0].type_, mode.args[0].choices.as_slice()),
        (
            ArgType::CephChoices,
            &["on".to_owned(), "off".to_owned()][..]
        )
    );
    assert!(matches!(
        mode.args[1].range,
        Some(ArgRange::Float((Some(0.0), Some(1.0))))
    ));
    assert_eq!(mode.args[2].name, "type");
    assert_eq!(mode.args[2].goodchars.as_deref(), Some("[a-z]"));
}

#[test]
fn dispatch_reads_typed_args_and_inbuf() {
    let mut probe = Probe::default();
    let r = run(
        &mut probe,
        r#"{"prefix":"probe put","oid":"obj1","tags":["a","b"]}"#,
        "data",
    );
    assert_eq!(r, HandleCommandResult::ok("obj1:4:a,b"));
    assert_eq!(probe.calls, 1);
}

#[test]
fn responder_formats_per_the_format_key() {
    let mut probe = Probe::default();
    let r = run(
        &mut probe,
        r#"{"prefix":"probe echo","n":3,"speed":"slow"}"#,
        "",
    );
    assert_eq!(r.stdout, r#"{"n":3,"speed":"slow"}"#);
    let r = run(
        &mut probe,
        r#"{"prefix":"probe echo","n":3,"format":"yaml"}"#,
        "",
    );
    assert_eq!(r.stdout, "n: 3\nspeed: none");
    let r = run(
        &mut probe,
        r#"{"prefix":"probe echo","n":3,"format":"xml"}"#,
        "",
    );
    assert_eq!(r.retval, -errno::EINVAL);
    assert!(r.stderr.starts_with("unknown format 'xml'"), "{}", r.stderr);
}

#[test]
fn mismatched_args_are_einval_not_panics() {
    let mut probe = Probe::default();
    let r = run(&mut probe, r#"{"prefix":"probe echo","n":"three"}"#, "");
    assert_eq!(r.retval, -errno::EINVAL);
    assert_eq!(
        r.stderr,
        "argument 'n': invalid type: string \"three\", expected i64"
    );
    let r = run(&mut probe, r#"{"prefix":"probe put"}"#, "");
    assert_eq!(
        (r.retval, r.stderr.as_str()),
        (-errno::EINVAL, "missing required argument 'oid'")
    );
    let r = run(
        &mut probe,
        r#"{"prefix":"probe echo","n":1,"speed":"warp"}"#,
        "",
    );
    assert_eq!(r.retval, -errno::EINVAL);
}

#[test]
fn empty_responder_succeeds_with_no_output_or_passes_the_error() {
    let mut probe = Probe::default();
    let r = run(&mut probe, r#"{"prefix":"probe mode","mode":"on"}"#, "");
    assert_eq!(r, HandleCommandResult::default());
    let r = run(&mut probe, r#"{"prefix":"probe mode","mode":"off"}"#, "");
    assert_eq!(r, HandleCommandResult::error(-errno::EBUSY, "cannot"));
}

#[test]
fn an_unknown_prefix_is_not_dispatched() {
    let mut probe = Probe::default();
    let call = Call::parse(r#"{"prefix":"probe nothing"}"#, "").unwrap();
    assert!(probe.dispatch(&call).is_none());
}
