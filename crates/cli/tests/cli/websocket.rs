//! WebSocket upgrade through the binary: the gateway checks the policy on the
//! upgrade request, the upstream's 101 reaches the client, and bytes then flow both
//! ways over the same connection.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::process::{Command, Stdio};

use crate::util::{Db, Env};

/// An upstream that answers any upgrade with 101 and then echoes what it receives,
/// upper-cased (so the test can tell the echo from its own bytes).
fn echo_upstream() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                let mut upgrade = false;
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if line.to_ascii_lowercase().starts_with("upgrade: websocket") {
                        upgrade = true;
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut out = stream;
                if !upgrade {
                    let _ = out.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
                    return;
                }
                let _ = out.write_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                );
                let mut buf = [0u8; 1024];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let upper: Vec<u8> = buf[..n].to_ascii_uppercase();
                    if out.write_all(&upper).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn websocket_upgrades_pass_through() {
    let up = echo_upstream();
    let env = Env::with_extra(
        Db::Sqlite,
        &format!(
            "[[upstream]]\nname = \"ws\"\nurl = \"http://127.0.0.1:{up}\"\n\n\
             [[route]]\nname = \"ws\"\npath = \"/ws\"\nmethods = [\"GET\"]\nupstream = \"ws\"\n\
             [[route.allow]]\nanyone = true\n"
        ),
    );
    let server = env.start_server();
    let mut child = Command::new("openssl")
        .args(["s_client", "-quiet", "-alpn", "http/1.1", "-connect"])
        .arg(format!("127.0.0.1:{}", server.port))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .expect("write");
    stdin.flush().expect("flush");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut got = Vec::new();
    let read_until = |got: &mut Vec<u8>, stdout: &mut std::process::ChildStdout, needle: &str| {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(got).contains(needle) {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    read_until(&mut got, &mut stdout, "\r\n\r\n");
    let head = String::from_utf8_lossy(&got).into_owned();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // After the 101 the connection is a tunnel: what goes in comes back echoed.
    stdin.write_all(b"hello over the tunnel").expect("write");
    stdin.flush().expect("flush");
    read_until(&mut got, &mut stdout, "HELLO OVER THE TUNNEL");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        String::from_utf8_lossy(&got).contains("HELLO OVER THE TUNNEL"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}
