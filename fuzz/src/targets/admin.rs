//! The admin API's request path: the bytes a client sends on one connection, through the
//! daemon's HTTP/1.1 server (`cli/src/http.rs`) to a handler with the daemon's routes, token
//! check and command-request decoding (`wasmgr::fuzzing::admin_connection`).
//!
//! Besides not panicking, the server must write well-formed HTTP/1.1 responses, each with a
//! `content-length` matching its body, and nothing after one that closes the connection; and
//! the client must get the same answers however the bytes were split into reads (TCP promises
//! nothing about segment boundaries). The only difference allowed is the interim
//! `100 Continue`, which is sent only when the body has not arrived yet.

use wasmgr::fuzzing::admin_connection;

use crate::{Features, broken};

/// What the client reads back: each final response's status and body, in order.
type Answers = Vec<(u16, Vec<u8>)>;

/// One connection's bytes, read whole (16 KiB at a time) and then in pieces of a few bytes.
pub fn admin(data: &[u8], seen: &mut Features) {
    let whole = answers(&admin_connection(data, usize::MAX));
    // Small pieces make every request head arrive partial many times over; a piece size that
    // varies with the input reaches other boundaries.
    let piece = if data.len() <= 512 {
        1 + data.len() % 7
    } else {
        61 + data.len() % 67
    };
    let pieces = answers(&admin_connection(data, piece));
    if whole != pieces {
        broken(format_args!(
            "the answers differ when the request arrives in pieces of {piece} bytes:\n\
             whole:  {}\npieces: {}",
            describe(&whole),
            describe(&pieces)
        ));
    }
    for (i, (status, body)) in whole.iter().enumerate() {
        seen.add((i.min(3), status));
        seen.message(&status.to_string(), &String::from_utf8_lossy(body));
    }
    if whole.is_empty() {
        seen.add("no answer");
    }
}

fn describe(answers: &Answers) -> String {
    let list: Vec<String> = answers
        .iter()
        .map(|(status, body)| format!("{status} {:?}", String::from_utf8_lossy(body)))
        .collect();
    format!("[{}]", list.join(", "))
}

/// The responses in `out`, checked: each parses, has one `content-length` that its body
/// fills, and nothing follows a `connection: close`.
fn answers(mut out: &[u8]) -> Answers {
    let mut list = Vec::new();
    while !out.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut response = httparse::Response::new(&mut headers);
        let head = match response.parse(out) {
            Ok(httparse::Status::Complete(head)) => head,
            other => broken(format_args!(
                "the server wrote something that is not an HTTP/1.1 response ({other:?}): {:?}",
                String::from_utf8_lossy(out)
            )),
        };
        let status = response.code.unwrap_or_default();
        if status == 100 {
            if !response.headers.is_empty() {
                broken(format_args!("100 Continue with headers"));
            }
            out = &out[head..];
            continue;
        }
        let lengths: Vec<usize> = response
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("content-length"))
            .map(|h| {
                std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(usize::MAX)
            })
            .collect();
        let &[length] = lengths.as_slice() else {
            broken(format_args!(
                "a {status} response has content-lengths {lengths:?}"
            ));
        };
        let Some(body) = out.get(head..head.saturating_add(length)) else {
            broken(format_args!(
                "a {status} response announces {length} bytes and has {}",
                out.len() - head
            ));
        };
        let closes = response
            .headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case("connection") && h.value == b"close");
        list.push((status, body.to_vec()));
        out = &out[head + length..];
        if closes && !out.is_empty() {
            broken(format_args!(
                "the server wrote after 'connection: close': {:?}",
                String::from_utf8_lossy(out)
            ));
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelined_requests_are_answered_in_order() {
        let input = b"POST /v1/command HTTP/1.1\r\nauthorization: Bearer fuzz\r\n\
                      content-length: 19\r\n\r\n{\"words\": [\"help\"]}\
                      GET /nowhere HTTP/1.1\r\n\r\n";
        let got = answers(&admin_connection(input, 3));
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (200, b"[\"help\"]".to_vec()));
        assert_eq!(got[1].0, 404);
        let mut seen = Features::default();
        admin(input, &mut seen);
        assert!(!seen.is_empty());
    }
}
