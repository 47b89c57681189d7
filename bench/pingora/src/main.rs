//! `pingora-bench-proxy LISTEN UPSTREAM CERT KEY`: TLS on LISTEN, every request sent
//! to the plain-HTTP UPSTREAM over pooled keep-alive connections, nothing else (no
//! policy, no headers): the framework's own cost, for comparison only.
#![forbid(unsafe_code)]

use async_trait::async_trait;
use pingora::prelude::*;

struct Forward {
    upstream: String,
}

#[async_trait]
impl ProxyHttp for Forward {
    type CTX = ();

    fn new_ctx(&self) -> Self::CTX {}

    async fn upstream_peer(&self, _s: &mut Session, _c: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(
            self.upstream.as_str(),
            false,
            String::new(),
        )))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, upstream, cert, key] = &args[..] else {
        eprintln!("usage: pingora-bench-proxy LISTEN UPSTREAM CERT KEY");
        std::process::exit(2);
    };
    let mut server = Server::new(None).expect("pingora server");
    server.bootstrap();
    let mut service = http_proxy_service(
        &server.configuration,
        Forward {
            upstream: upstream.clone(),
        },
    );
    service
        .add_tls(listen, cert, key)
        .expect("TLS listener (certificate and key PEM files)");
    server.add_service(service);
    server.run_forever();
}
