//! The client: `wasmgr [options] <command words>` sends the words to the daemon, which matches
//! them against its command table, checks the arguments and runs the command.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use wasmgr_runtime::actor::valid_retval;
use wasmgr_runtime::manager::{CommandInfo, CommandReply, CommandRequest, MAX_REPLY_BODY_BYTES};

use crate::admin;

const FORMATS: &[&str] = &["plain", "json", "json-pretty", "yaml"];

const GENERAL_USAGE: &str = "usage: wasmgr [options] <command> [<args>...]
       wasmgr serve [--data DIR] [--modules DIR] ...   (run the daemon; 'wasmgr serve --help')
       wasmgr key gen FILE                             (new signing key: FILE and FILE.pub)
       wasmgr key fingerprint FILE                     (a key file's fingerprint)
       wasmgr module sign COMPONENT --key FILE         (sign a module: writes COMPONENT.sig)
       wasmgr grants requested DIR                     (a grants file approving DIR's modules' requests)

options:
  --data DIR            the daemon's data directory (default: $WASMGR_DATA, else
                        $XDG_STATE_HOME/wasmgr, else ~/.local/state/wasmgr)
  -f, --format FORMAT   output format: plain, json, json-pretty or yaml
  -i, --in-file FILE    send FILE ('-' for standard input) to the command as its input
  --token-file FILE     act as the admin client whose token FILE holds (see 'wasmgr auth
                        create'), instead of with the data directory's token; $WASMGR_TOKEN
                        gives the token too (--token-file wins)
  --period SECONDS      repeat a poll command every SECONDS until interrupted
  -h, --help            list every command, or those starting with the given words

Arguments go by position or as name=value (or --name value; --name alone for a flag).
The exit code is the command's errno (0 on success).";

struct Args {
    data: PathBuf,
    format: Option<String>,
    in_file: Option<String>,
    token_file: Option<PathBuf>,
    period: Option<f64>,
    help: bool,
    words: Vec<String>,
}

fn parse(args: Vec<String>) -> Result<Args, String> {
    let mut a = Args {
        data: crate::default_data_dir(),
        format: None,
        in_file: None,
        token_file: None,
        period: None,
        help: false,
        words: Vec::new(),
    };
    let mut it = args.into_iter();
    let mut words_only = false;
    while let Some(arg) = it.next() {
        if words_only {
            a.words.push(arg);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let value = |it: &mut std::vec::IntoIter<String>| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{name} needs a value"))
        };
        match name.as_str() {
            "--" => {
                words_only = true;
                a.words.push(arg);
            }
            "-h" | "--help" => a.help = true,
            "--data" => a.data = PathBuf::from(value(&mut it)?),
            "-f" | "--format" => {
                let f = value(&mut it)?;
                if !FORMATS.contains(&f.as_str()) {
                    return Err(format!(
                        "unknown format '{f}': use one of {}",
                        FORMATS.join(", ")
                    ));
                }
                a.format = Some(f);
            }
            "-i" | "--in-file" => a.in_file = Some(value(&mut it)?),
            "--token-file" => a.token_file = Some(PathBuf::from(value(&mut it)?)),
            "--period" => {
                let v = value(&mut it)?;
                let p: f64 = v
                    .parse()
                    .map_err(|_| format!("--period {v}: expected a number of seconds"))?;
                if !(p > 0.0 && p.is_finite()) {
                    return Err(format!("--period {v}: must be more than 0"));
                }
                a.period = Some(p);
            }
            _ => a.words.push(arg),
        }
    }
    Ok(a)
}

struct Client {
    agent: ureq::Agent,
    base: String,
    token: String,
}

/// The token of a named admin client, if one is given: `--token-file`, else `$WASMGR_TOKEN`.
/// Surrounding white space (a file's final newline) is not part of it.
fn named_token(token_file: Option<&std::path::Path>) -> Result<Option<String>, (i32, String)> {
    let (token, from) = match token_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                (
                    2,
                    format!(
                        "--token-file {}: {e}; name the file holding the token that 'wasmgr auth create' printed",
                        path.display()
                    ),
                )
            })?;
            (text, format!("--token-file {}", path.display()))
        }
        None => match std::env::var(crate::TOKEN_ENV) {
            Ok(text) => (text, format!("${}", crate::TOKEN_ENV)),
            Err(std::env::VarError::NotPresent) => return Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err((
                    22,
                    format!(
                        "${} is not a token: set it to the token 'wasmgr auth create' printed",
                        crate::TOKEN_ENV
                    ),
                ));
            }
        },
    };
    let token = token.trim();
    if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err((
            22,
            format!(
                "{from} holds no token: it must hold just the token 'wasmgr auth create' printed"
            ),
        ));
    }
    Ok(Some(token.to_owned()))
}

impl Client {
    /// A client of the daemon of `data`, with `token` if given, else the token of the data
    /// directory's endpoint file.
    fn connect(data: &std::path::Path, token: Option<&str>) -> Result<Client, (i32, String)> {
        let mut ep = admin::read(data).map_err(|e| (111, e))?;
        if let Some(token) = token {
            ep.token = token.to_owned();
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        Ok(Client {
            agent: config.into(),
            base: format!("http://{}", ep.addr),
            token: ep.token,
        })
    }

    fn commands(&self) -> Result<Vec<CommandInfo>, (i32, String)> {
        let req = self.agent.get(format!("{}/v1/commands", self.base));
        Self::answer(
            req.header("authorization", format!("Bearer {}", self.token))
                .call(),
            &self.base,
        )
    }

    fn command(&self, body: &CommandRequest) -> Result<CommandReply, (i32, String)> {
        let req = self.agent.post(format!("{}/v1/command", self.base));
        Self::answer(
            req.header("authorization", format!("Bearer {}", self.token))
                .send_json(body),
            &self.base,
        )
    }

    /// The daemon's JSON answer, or why there is none.
    fn answer<T: serde::de::DeserializeOwned>(
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        base: &str,
    ) -> Result<T, (i32, String)> {
        let mut resp = resp.map_err(|e| {
            (
                111,
                format!("cannot reach the daemon at {base}: {e}; is 'wasmgr serve' running?"),
            )
        })?;
        let status = resp.status().as_u16();
        if status != 200 {
            let body = resp.body_mut().read_to_string().unwrap_or_default();
            let errno = match status {
                401 => 13, // EACCES: no or wrong token
                413 => 7,  // E2BIG: the input file is over the request limit
                503 => 11, // EAGAIN: the daemon is shutting down
                _ => 5,    // EIO
            };
            return Err((errno, format!("daemon refused: {status} {body}")));
        }
        // As much as the daemon may send: a client that refuses what the daemon allows would
        // turn a successful command into an error.
        resp.body_mut()
            .with_config()
            .limit(MAX_REPLY_BODY_BYTES as u64)
            .read_json()
            .map_err(|e| (5, format!("bad answer from the daemon: {e}")))
    }
}

/// Ceph's names for the errno values commands return.
fn errno_name(e: i32) -> String {
    let name = match e {
        1 => "EPERM",
        2 => "ENOENT",
        5 => "EIO",
        7 => "E2BIG",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        16 => "EBUSY",
        17 => "EEXIST",
        22 => "EINVAL",
        28 => "ENOSPC",
        34 => "ERANGE",
        38 => "ENOSYS",
        95 => "EOPNOTSUPP",
        110 => "ETIMEDOUT",
        111 => "ECONNREFUSED",
        _ => return format!("errno {e}"),
    };
    name.into()
}

/// Report a failure as every command does (`Error EINVAL: ...`); returns `errno`, the exit code.
pub(crate) fn fail(errno: i32, message: &str) -> i32 {
    eprintln!("Error {}: {message}", errno_name(errno));
    errno
}

/// Run the client; returns the exit code (the command's errno).
pub fn main(args: Vec<String>) -> i32 {
    let args = match parse(args) {
        Ok(a) => a,
        Err(e) => return fail(22, &format!("{e}\n{GENERAL_USAGE}")),
    };
    let token = match named_token(args.token_file.as_deref()) {
        Ok(t) => t,
        Err((errno, e)) => return fail(errno, &e),
    };
    if args.help || args.words.is_empty() {
        return help(&args, token.as_deref());
    }
    let inbuf = match read_inbuf(args.in_file.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(22, &e),
    };
    let client = match Client::connect(&args.data, token.as_deref()) {
        Ok(c) => c,
        Err((errno, e)) => return fail(errno, &e),
    };
    let req = CommandRequest {
        words: args.words.clone(),
        format: args.format.clone(),
        inbuf,
    };
    loop {
        let code = match client.command(&req) {
            Ok(reply) => print_reply(&reply),
            Err((errno, e)) => return fail(errno, &e),
        };
        match args.period {
            Some(p) if code == 0 => std::thread::sleep(Duration::from_secs_f64(p)),
            _ => return code,
        }
    }
}

fn print_reply(reply: &CommandReply) -> i32 {
    if !reply.stdout.is_empty() {
        print!("{}", reply.stdout);
        if !reply.stdout.ends_with('\n') {
            println!();
        }
    }
    if !valid_retval(reply.retval) {
        return fail(
            5,
            &format!(
                "the daemon returned retval {}, which is neither 0 nor a negative errno; {}",
                reply.retval,
                reply.stderr.trim_end()
            ),
        );
    }
    if reply.retval < 0 {
        return fail(-reply.retval, reply.stderr.trim_end());
    }
    if !reply.stderr.is_empty() {
        eprintln!("{}", reply.stderr.trim_end());
    }
    0
}

fn read_inbuf(path: Option<&str>) -> Result<String, String> {
    let Some(path) = path else {
        return Ok(String::new());
    };
    let mut bytes = Vec::new();
    let read = if path == "-" {
        std::io::stdin().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("-i {path}: {e}"))?;
    String::from_utf8(bytes).map_err(|_| format!("-i {path}: the input must be UTF-8 text"))
}

fn help(args: &Args, token: Option<&str>) -> i32 {
    let commands = Client::connect(&args.data, token).and_then(|c| c.commands());
    let filter: Vec<&String> = args
        .words
        .iter()
        .filter(|w| !w.starts_with('-') && !w.contains('='))
        .collect();
    match commands {
        Ok(list) => {
            if filter.is_empty() {
                println!("{GENERAL_USAGE}\n\ncommands:");
            }
            let matching: Vec<&CommandInfo> = list
                .iter()
                .filter(|c| {
                    let words: Vec<&str> = c.prefix.split(' ').collect();
                    filter
                        .iter()
                        .zip(words.iter())
                        .all(|(f, w)| f.as_str() == *w)
                        && filter.len() <= words.len()
                        || filter.is_empty()
                })
                .collect();
            if matching.is_empty() {
                return fail(
                    22,
                    &format!(
                        "no command starts with '{}'; see 'wasmgr --help'",
                        args.words.join(" ")
                    ),
                );
            }
            for c in matching {
                println!("{}", c.help);
            }
            0
        }
        Err((errno, e)) => {
            println!("{GENERAL_USAGE}");
            eprintln!("\n(module commands are listed when the daemon is running: {e})");
            if args.help { 0 } else { errno }
        }
    }
}
