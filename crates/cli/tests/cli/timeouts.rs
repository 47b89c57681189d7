//! Configured timeouts through the binary: a silent upstream gets a 504 after the
//! upstream's `response_timeout`, and a client that never finishes its request head
//! is cut after `server.header_read_timeout`.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::util::{Db, Env};

#[tokio::test]
async fn upstream_response_and_header_read_timeouts() {
    // An upstream that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let env = Env::with_extra(
        Db::Sqlite,
        &format!(
            "[[upstream]]\nname = \"slow\"\nurl = \"http://127.0.0.1:{port}\"\nresponse_timeout = \"1s\"\n\n\
             [[route]]\nname = \"slow\"\npath = \"/slow\"\nupstream = \"slow\"\nmethods = [\"GET\"]\n\
             [[route.allow]]\nanyone = true\n"
        ),
    );
    env.add_server_keys("header_read_timeout = \"1s\"\n");
    let server = env.start_server();
    let c = crate::login::client(&env);
    let started = Instant::now();
    let r = c
        .get(format!("{}/slow", server.base()))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 504);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");

    // A client that completes TLS, sends half a request head and waits: the server
    // closes the connection after header_read_timeout (1 s here; the default 10 s
    // would fail the bound below).
    let mut child = std::process::Command::new("openssl")
        .args(["s_client", "-quiet", "-connect"])
        .arg(format!("127.0.0.1:{}", server.port))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        .expect("write");
    stdin.flush().expect("flush");
    let started = Instant::now();
    let mut out = Vec::new();
    let _ = child.stdout.take().expect("stdout").read_to_end(&mut out);
    let took = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        took < Duration::from_secs(8),
        "the half-sent head held the connection {took:?}"
    );
    drop(stdin);
}

/// A client that sends its head at once and then trickles the body (slowloris on the
/// body) is answered 408 after `server.body_read_timeout`, and nothing is forwarded.
#[tokio::test]
async fn trickled_request_bodies_are_cut() {
    let env = Env::with_extra(
        Db::Sqlite,
        "[[route]]\nname = \"upload\"\npath = \"/upload\"\nupstream = \"demo\"\nmethods = [\"POST\"]\n\
         [[route.allow]]\nanyone = true\n",
    );
    env.add_server_keys("body_read_timeout = \"2s\"\n");
    let server = env.start_server();
    let mut child = std::process::Command::new("openssl")
        .args(["s_client", "-quiet", "-connect"])
        .arg(format!("127.0.0.1:{}", server.port))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(
            b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n\
              Content-Length: 1000\r\n\r\nonly a few bytes",
        )
        .expect("write");
    stdin.flush().expect("flush");
    let started = Instant::now();
    // Keep dripping a byte a second, well inside any per-read idle timer.
    let dripper = std::thread::spawn(move || {
        for _ in 0..10 {
            std::thread::sleep(Duration::from_secs(1));
            if stdin.write_all(b"x").and_then(|()| stdin.flush()).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&out).contains("\r\n\r\n") {
        match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    let took = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    let _ = dripper.join();
    let head = String::from_utf8_lossy(&out);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(took < Duration::from_secs(8), "answered after {took:?}");
}
