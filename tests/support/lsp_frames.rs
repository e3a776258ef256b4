//! The Language Server's replies as a client reads them: `Content-Length`
//! framed JSON on the server's standard output, each message sent on a
//! channel as it arrives (shared by `tests/lsp.rs` and `benches/lsp.rs`).

use std::io::{BufRead, BufReader, Read};
use std::process::ChildStdout;
use std::sync::mpsc::{Receiver, channel};

use serde_json::Value;

/// Reads messages until the output ends or is not a message; a body that
/// is not JSON ends the reading too, so a test sees the server stop talking.
pub fn messages(stdout: ChildStdout) -> Receiver<Value> {
    let (sender, output) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.strip_prefix("Content-Length: ") {
                    length = value.parse().ok();
                }
            }
            let Some(length) = length else { return };
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let Ok(value) = serde_json::from_slice::<Value>(&body) else {
                return;
            };
            if sender.send(value).is_err() {
                return;
            }
        }
    });
    output
}
