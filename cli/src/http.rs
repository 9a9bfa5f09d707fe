//! The admin API's HTTP/1.1 server side: one blocking connection on the calling thread.
//!
//! The admin API serves a handful of JSON routes to local clients, and its handler blocks
//! while a module runs a command. So every connection gets a thread of its own with blocking
//! reads and writes (see `serve::spawn_connection`): a request wakes exactly the thread that
//! waits on its socket, and guest code never runs inside an async runtime's context (where
//! WASI's blocking calls would refuse to run). This module is the protocol part: it reads
//! requests (`content-length` bodies, keep-alive, pipelining, `Expect: 100-continue`) and
//! writes each response in one write.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The largest request head (request line and headers).
const MAX_HEAD: usize = 64 << 10;
/// The largest request body: a command's input buffer (`-i FILE`) travels in it.
pub const MAX_BODY: usize = 64 << 20;
/// Headers parsed per request.
const MAX_HEADERS: usize = 64;

/// One request, as the handler sees it.
pub struct Request {
    pub method: String,
    pub path: String,
    /// The `authorization` header, if any.
    pub authorization: Option<String>,
    /// The body's length as the head announced it (the body is read after admission).
    pub content_length: usize,
    pub body: Vec<u8>,
}

/// One response.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response with status 200.
    pub fn json(body: Vec<u8>) -> Response {
        Response {
            status: 200,
            content_type: "application/json",
            body,
        }
    }

    /// A plain-text error response.
    pub fn error(status: u16, message: impl Into<String>) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: message.into().into_bytes(),
        }
    }
}

/// What answers a connection's requests.
pub trait Handler {
    /// What admitting a request found out, for answering it (e.g. the client's permission).
    type Admitted;
    /// Held from answering a request until its response is written (e.g. a count of
    /// commands in progress, which a shutdown waits for).
    type Guard;
    /// Look at a request before its body is read (`req.body` is empty). An error response
    /// refuses it and closes the connection, so a request that would be refused anyway (an
    /// unknown route, a wrong token) never gets its body read and buffered.
    fn admit(&self, req: &Request) -> Result<Self::Admitted, Response>;
    /// Answer an admitted request, its body read.
    fn answer(&self, req: &Request, admitted: Self::Admitted) -> (Response, Self::Guard);
}

/// Whether a connection is working on a request, or idle waiting for the next one (and since
/// when): the server closes idle connections first when it runs out of room.
#[derive(Debug, Default)]
pub struct Activity {
    busy: std::sync::atomic::AtomicBool,
    idle_since: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Activity {
    fn set_busy(&self, busy: bool) {
        self.busy.store(busy, std::sync::atomic::Ordering::Release);
        let mut since = self.idle_since.lock().unwrap_or_else(|p| p.into_inner());
        *since = if busy {
            None
        } else {
            Some(std::time::Instant::now())
        };
    }

    /// Since when the connection has been idle; `None` while it works on a request.
    pub fn idle_since(&self) -> Option<std::time::Instant> {
        if self.busy.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        *self.idle_since.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The byte stream a connection is served over: a TCP stream in the daemon, bytes in memory
/// when the request reader is fuzzed.
pub trait Transport: Read + Write {
    /// Give up waiting for bytes after `timeout`.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Tell the client nothing more will be sent.
    fn shutdown_write(&self) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

/// Serve requests on `stream` until the client closes it, asks to close, stays silent for
/// `idle` (between or within requests, or while a response waits to be sent), or sends
/// something this server cannot read or `handler` does not admit (which gets an error
/// response first).
pub fn serve(
    stream: TcpStream,
    idle: Duration,
    handler: &impl Handler,
    activity: &Activity,
) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(idle))?;
    // A client that sends requests and never reads the responses must not hold the
    // connection (and its slot) forever.
    stream.set_write_timeout(Some(idle))?;
    serve_on(stream, idle, handler, activity)
}

/// [`serve`] over any transport whose timeouts are set.
pub fn serve_on(
    stream: impl Transport,
    idle: Duration,
    handler: &impl Handler,
    activity: &Activity,
) -> io::Result<()> {
    let mut conn = Conn {
        stream,
        buf: Vec::with_capacity(16 << 10),
        idle,
    };
    loop {
        activity.set_busy(false);
        let head = match conn.read_head()? {
            Head::Closed => return Ok(()),
            Head::Refused(resp) => return conn.refuse(&resp),
            Head::Request(head) => head,
        };
        let mut request = Request {
            method: head.method.clone(),
            path: head.path.clone(),
            authorization: head.authorization.clone(),
            content_length: head.content_length,
            body: Vec::new(),
        };
        let admitted = match handler.admit(&request) {
            Ok(admitted) => admitted,
            Err(resp) => return conn.refuse(&resp),
        };
        request.body = match conn.read_body(&head)? {
            Ok(body) => body,
            Err(resp) => return conn.refuse(&resp),
        };
        // Busy only from here: a client still sending its request (perhaps a byte a second)
        // is as evictable as an idle one.
        activity.set_busy(true);
        let (response, guard) = handler.answer(&request, admitted);
        conn.write(&response, head.close)?;
        drop(guard);
        if head.close {
            return Ok(());
        }
    }
}

/// Answer `resp` on a connection that will not be served, and close it.
pub fn refuse(stream: TcpStream, resp: &Response) -> io::Result<()> {
    stream.set_write_timeout(Some(Duration::from_secs(1)))?;
    let mut conn = Conn {
        stream,
        buf: Vec::new(),
        idle: Duration::from_secs(1),
    };
    conn.refuse(resp)
}

struct Conn<S> {
    stream: S,
    /// Bytes read and not yet consumed: the start of the next request.
    buf: Vec<u8>,
    idle: Duration,
}

struct RequestHead {
    method: String,
    path: String,
    authorization: Option<String>,
    content_length: usize,
    expect_continue: bool,
    close: bool,
}

enum Head {
    Closed,
    Refused(Response),
    Request(RequestHead),
}

impl<S: Transport> Conn<S> {
    /// Read more bytes into the buffer; `false` at end of stream.
    fn fill(&mut self, started: Instant) -> io::Result<bool> {
        if started.elapsed() > self.idle {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request not complete in time",
            ));
        }
        let mut chunk = [0u8; 16 << 10];
        let n = match self.stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(true),
            Err(e) => return Err(e),
        };
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    fn read_head(&mut self) -> io::Result<Head> {
        let started = Instant::now();
        loop {
            if !self.buf.is_empty() {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut req = httparse::Request::new(&mut headers);
                match req.parse(&self.buf) {
                    Ok(httparse::Status::Complete(len)) => {
                        let head = parse_head(&req);
                        self.buf.drain(..len);
                        return Ok(match head {
                            Ok(head) => Head::Request(head),
                            Err(resp) => Head::Refused(resp),
                        });
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(e) => {
                        return Ok(Head::Refused(Response::error(
                            400,
                            format!("malformed HTTP request: {e}"),
                        )));
                    }
                }
                if self.buf.len() > MAX_HEAD {
                    return Ok(Head::Refused(Response::error(
                        431,
                        format!("request head over {MAX_HEAD} bytes"),
                    )));
                }
            }
            match self.fill(started) {
                Ok(true) => {}
                // A client that closes (or goes silent) between requests is done; one that
                // stops mid-request has nothing to be answered.
                Ok(false) => return Ok(Head::Closed),
                Err(e) if is_timeout(&e) => return Ok(Head::Closed),
                Err(e) => return Err(e),
            }
        }
    }

    fn read_body(&mut self, head: &RequestHead) -> io::Result<Result<Vec<u8>, Response>> {
        if head.content_length > MAX_BODY {
            return Ok(Err(Response::error(
                413,
                format!(
                    "request body of {} bytes is over the limit of {MAX_BODY} bytes",
                    head.content_length
                ),
            )));
        }
        if head.expect_continue && self.buf.len() < head.content_length {
            self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let started = Instant::now();
        while self.buf.len() < head.content_length {
            if !self.fill(started)? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the client closed the connection mid-request",
                ));
            }
        }
        let rest = self.buf.split_off(head.content_length);
        Ok(Ok(std::mem::replace(&mut self.buf, rest)))
    }

    /// Answer a request this server cannot read, and close. What the client still sends is
    /// read and dropped for a moment first, so that closing with unread data (which resets the
    /// connection) does not destroy the answer before the client reads it.
    fn refuse(&mut self, resp: &Response) -> io::Result<()> {
        self.write(resp, true)?;
        self.stream.shutdown_write()?;
        self.stream
            .set_read_timeout(Some(Duration::from_millis(100)))?;
        let mut sink = [0u8; 16 << 10];
        let mut left = MAX_HEAD;
        while left > 0 {
            match self.stream.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
        Ok(())
    }

    fn write(&mut self, resp: &Response, close: bool) -> io::Result<()> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\n{}\r\n",
            resp.status,
            reason(resp.status),
            resp.content_type,
            resp.body.len(),
            if close { "connection: close\r\n" } else { "" },
        )
        .into_bytes();
        out.extend_from_slice(&resp.body);
        self.stream.write_all(&out)?;
        self.stream.flush()
    }
}

fn parse_head(req: &httparse::Request<'_, '_>) -> Result<RequestHead, Response> {
    let method = req.method.unwrap_or_default().to_owned();
    let path = req.path.unwrap_or_default().to_owned();
    // HTTP/1.0 closes after each response unless it asks otherwise; so does this server.
    let mut close = req.version != Some(1);
    let mut authorization = None;
    let mut content_length = None;
    let mut expect_continue = false;
    for h in req.headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| Response::error(400, format!("header '{}' is not UTF-8", h.name)))?;
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = value.trim().parse::<usize>().map_err(|_| {
                Response::error(400, format!("content-length '{value}' is not a number"))
            })?;
            if content_length.is_some_and(|m| m != n) {
                return Err(Response::error(400, "conflicting content-length headers"));
            }
            content_length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(Response::error(
                501,
                "request bodies with transfer-encoding are not supported; send content-length",
            ));
        } else if h.name.eq_ignore_ascii_case("authorization") {
            authorization = Some(value.to_owned());
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = value.to_ascii_lowercase();
            if v.contains("close") {
                close = true;
            } else if v.contains("keep-alive") {
                close = false;
            }
        } else if h.name.eq_ignore_ascii_case("expect") {
            if !value.eq_ignore_ascii_case("100-continue") {
                return Err(Response::error(417, format!("cannot meet expect: {value}")));
            }
            expect_continue = true;
        }
    }
    Ok(RequestHead {
        method,
        path,
        authorization,
        content_length: content_length.unwrap_or(0),
        expect_continue,
        close,
    })
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    use super::*;

    /// A server on a loopback port that echoes method, path, token and body; and a client
    /// stream to it.
    fn pair() -> (TcpStream, std::thread::JoinHandle<io::Result<()>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept()?;
            serve(stream, Duration::from_secs(5), &Echo, &Activity::default())
        });
        (TcpStream::connect(addr).unwrap(), server)
    }

    /// Echoes method, path, token and body; refuses the path `/refused` before its body.
    struct Echo;

    impl Handler for Echo {
        type Admitted = ();
        type Guard = ();
        fn admit(&self, req: &Request) -> Result<(), Response> {
            assert!(req.body.is_empty(), "admit saw a body");
            if req.path == "/refused" {
                return Err(Response::error(401, "refused before the body"));
            }
            Ok(())
        }
        fn answer(&self, req: &Request, (): ()) -> (Response, ()) {
            let echo = format!(
                "{} {} {} {}",
                req.method,
                req.path,
                req.authorization.as_deref().unwrap_or("-"),
                String::from_utf8_lossy(&req.body)
            );
            (Response::json(echo.into_bytes()), ())
        }
    }

    /// Read one response: status, headers (lower-cased names), body.
    fn response(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>, String) {
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').unwrap();
            headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        (status, headers, String::from_utf8(body).unwrap())
    }

    #[test]
    fn keep_alive_pipelining_and_close() {
        let (mut c, server) = pair();
        // Two requests in one write, the second asking to close.
        c.write_all(
            b"POST /a HTTP/1.1\r\nauthorization: Bearer t\r\ncontent-length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nconnection: close\r\n\r\n",
        )
        .unwrap();
        let mut r = BufReader::new(c.try_clone().unwrap());
        let (status, _, body) = response(&mut r);
        assert_eq!((status, body.as_str()), (200, "POST /a Bearer t hello"));
        let (status, headers, body) = response(&mut r);
        assert_eq!((status, body.as_str()), (200, "GET /b - "));
        assert!(headers.contains(&("connection".into(), "close".into())));
        server.join().unwrap().unwrap();
    }

    #[test]
    fn expect_continue_gets_a_100_before_the_body() {
        let (mut c, server) = pair();
        c.write_all(
            b"POST /x HTTP/1.1\r\ncontent-length: 3\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
        )
        .unwrap();
        let mut r = BufReader::new(c.try_clone().unwrap());
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
        line.clear();
        r.read_line(&mut line).unwrap();
        c.write_all(b"abc").unwrap();
        let (status, _, body) = response(&mut r);
        assert_eq!((status, body.as_str()), (200, "POST /x - abc"));
        server.join().unwrap().unwrap();
    }

    #[test]
    fn unreadable_requests_get_an_error_and_the_connection_closes() {
        for (request, status, says) in [
            (&b"GARBAGE\x01\r\n\r\n"[..], 400, "malformed"),
            (
                b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n",
                501,
                "content-length",
            ),
            (
                b"POST / HTTP/1.1\r\ncontent-length: x\r\n\r\n",
                400,
                "not a number",
            ),
            (
                b"POST / HTTP/1.1\r\ncontent-length: 999999999999\r\n\r\n",
                413,
                "over the limit",
            ),
            (
                b"POST /refused HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 60000000\r\n\r\n",
                401,
                "before the body",
            ),
        ] {
            let (mut c, server) = pair();
            c.write_all(request).unwrap();
            let mut r = BufReader::new(c.try_clone().unwrap());
            let (got, headers, body) = response(&mut r);
            assert_eq!(got, status, "{body}");
            assert!(body.contains(says), "{body}");
            assert!(headers.contains(&("connection".into(), "close".into())));
            server.join().unwrap().unwrap();
        }
    }

    #[test]
    fn an_oversized_head_is_refused() {
        let (mut c, server) = pair();
        let mut req = b"GET / HTTP/1.1\r\nx: ".to_vec();
        req.extend(std::iter::repeat_n(b'a', MAX_HEAD + 10));
        // The server may answer and close before it has read everything.
        let _ = c.write_all(&req);
        let mut r = BufReader::new(c.try_clone().unwrap());
        let (status, _, _) = response(&mut r);
        assert_eq!(status, 431);
        server.join().unwrap().unwrap();
    }
}
