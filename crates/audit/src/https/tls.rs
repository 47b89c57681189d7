//! Modern TLS probing with rustls: which of TLS 1.2 and 1.3 the server accepts, the
//! negotiated suite, and the certificate (trust, name, expiry, key, signature).
//!
//! The verifier records whether the chain verifies and then accepts it anyway: an
//! untrusted certificate is a finding, not a reason to stop auditing the headers.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::rules::*;
use super::{connect, Target};
use crate::finding::{Finding, Location, Severity};
use crate::report::Report;

/// Expiry closer than this is reported (as medium).
const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 3600);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The public roots, plus the certificates of `ca_file`.
pub fn roots(ca_file: Option<&Path>) -> Result<Arc<RootCertStore>, String> {
    let mut store = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            store
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(Arc::new(store))
}

/// Records the verdicts of the real verifier and lets the handshake go on: an
/// untrusted chain, or a handshake signature this client cannot check (a 1024-bit
/// RSA key, say), is a finding about the server, not a reason to stop auditing it.
/// Nothing secret is ever sent on these connections.
#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    verdict: Mutex<Option<Result<(), String>>>,
    signature: Mutex<Option<String>>,
}

impl Recorder {
    fn signature_checked(
        &self,
        result: Result<HandshakeSignatureValid, rustls::Error>,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if let Err(e) = &result {
            if let Ok(mut s) = self.signature.lock() {
                *s = Some(e.to_string());
            }
        }
        Ok(HandshakeSignatureValid::assertion())
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map(|_| ())
            .map_err(|e| e.to_string());
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(verdict);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature_checked(self.inner.verify_tls12_signature(message, cert, dss))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signature_checked(self.inner.verify_tls13_signature(message, cert, dss))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

struct Handshake {
    stream: TlsStream<TcpStream>,
    verdict: Option<Result<(), String>>,
    signature: Option<String>,
}

async fn handshake(
    target: &Target,
    roots: &Arc<RootCertStore>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    timeout: Duration,
) -> Result<Handshake, String> {
    let inner = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider())
        .build()
        .map_err(|e| format!("cannot build the verifier: {e}"))?;
    let recorder = Arc::new(Recorder {
        inner,
        verdict: Mutex::new(None),
        signature: Mutex::new(None),
    });
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from(target.host.clone())
        .map_err(|e| format!("bad host name `{}`: {e}", target.host))?;
    let tcp = connect(&target.host, target.port, timeout).await?;
    let stream = tokio::time::timeout(
        timeout,
        TlsConnector::from(Arc::new(config)).connect(name, tcp),
    )
    .await
    .map_err(|_| "TLS handshake timed out".to_owned())?
    .map_err(|e| format!("TLS handshake failed: {e}"))?;
    let verdict = recorder.verdict.lock().ok().and_then(|v| v.clone());
    let signature = recorder.signature.lock().ok().and_then(|s| s.clone());
    Ok(Handshake {
        stream,
        verdict,
        signature,
    })
}

/// Probes TLS 1.3 and 1.2, checks the certificate, and returns a connection to send
/// the HTTP request on (or `None` when no handshake succeeds: a scan error).
pub async fn probe(
    target: &Target,
    roots: &Arc<RootCertStore>,
    timeout: Duration,
    report: &mut Report,
    url: &str,
) -> Option<TlsStream<TcpStream>> {
    let loc = |o: &str| Location::target(url.to_owned()).with_object(o.to_owned());
    let tls13 = handshake(target, roots, &[&rustls::version::TLS13], timeout).await;
    let tls12 = handshake(target, roots, &[&rustls::version::TLS12], timeout).await;
    if let (Err(e13), Err(e12)) = (&tls13, &tls12) {
        let msg = if e13 == e12 {
            e13.clone()
        } else {
            format!("TLS 1.3: {e13}; TLS 1.2: {e12}")
        };
        report.error(url, msg);
        return None;
    }
    if tls13.is_err() {
        report.push(Finding::new(
            &NO_TLS13,
            loc("TLS"),
            "the server does not accept TLS 1.3",
        ));
    }
    let ((Ok(main), _) | (Err(_), Ok(main))) = (tls13, tls12) else {
        return None;
    };
    if let Some(Err(e)) = &main.verdict {
        report.push(Finding::new(
            &CERT_UNTRUSTED,
            loc("certificate"),
            format!("the chain does not verify: {e}"),
        ));
    }
    if let Some(e) = &main.signature {
        report.push(Finding::new(
            &CERT_UNTRUSTED,
            loc("handshake signature"),
            format!("the server's handshake signature does not verify ({e}); a client that checks it refuses the connection"),
        ));
    }
    let leaf = main
        .stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec());
    match leaf {
        Some(der) => check_certificate(&der, &target.host, report, &loc),
        None => report.error(url, "the server sent no certificate"),
    }
    Some(main.stream)
}

fn check_certificate(der: &[u8], host: &str, report: &mut Report, loc: &dyn Fn(&str) -> Location) {
    let cert = match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => c,
        Err(e) => {
            report.push(Finding::new(
                &CERT_UNTRUSTED,
                loc("certificate"),
                format!("the certificate does not parse: {e}"),
            ));
            return;
        }
    };
    // Expiry.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let not_after = cert.validity().not_after.timestamp();
    let not_before = cert.validity().not_before.timestamp();
    let warn = i64::try_from(EXPIRY_WARNING.as_secs()).unwrap_or(i64::MAX);
    if not_after < now {
        report.push(Finding::new(
            &CERT_EXPIRY,
            loc("certificate"),
            format!("expired on {}", cert.validity().not_after),
        ));
    } else if not_before > now {
        report.push(Finding::new(
            &CERT_EXPIRY,
            loc("certificate"),
            format!("not valid before {}", cert.validity().not_before),
        ));
    } else if not_after - now < warn {
        report.push(
            Finding::new(
                &CERT_EXPIRY,
                loc("certificate"),
                format!(
                    "expires on {} (in {} days)",
                    cert.validity().not_after,
                    (not_after - now) / 86_400
                ),
            )
            .with_severity(Severity::Medium),
        );
    }
    // Name.
    let mut names: Vec<String> = Vec::new();
    let mut ips: Vec<std::net::IpAddr> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::DNSName(d) => {
                    names.push(d.to_ascii_lowercase())
                }
                x509_parser::extensions::GeneralName::IPAddress(b) => {
                    if let Ok(a) = <[u8; 4]>::try_from(*b) {
                        ips.push(std::net::IpAddr::from(a));
                    } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                        ips.push(std::net::IpAddr::from(a));
                    }
                }
                _ => {}
            }
        }
    }
    let matches = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ips.contains(&ip),
        Err(_) => {
            let h = host.to_ascii_lowercase();
            names.iter().any(|n| {
                n == &h
                    || n.strip_prefix("*.").is_some_and(|suffix| {
                        h.split_once('.')
                            .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix)
                    })
            })
        }
    };
    if !matches {
        let mut listed: Vec<String> = names.clone();
        listed.extend(ips.iter().map(ToString::to_string));
        report.push(Finding::new(
            &CERT_NAME,
            loc("certificate"),
            format!(
                "`{host}` is not among the certificate's names ({})",
                if listed.is_empty() {
                    "none".to_owned()
                } else {
                    listed.join(", ")
                }
            ),
        ));
    }
    // Key.
    if let Ok(key) = cert.public_key().parsed() {
        let bits = key.key_size();
        let weak = match key {
            x509_parser::public_key::PublicKey::RSA(_)
            | x509_parser::public_key::PublicKey::DSA(_) => bits < 2048,
            x509_parser::public_key::PublicKey::EC(_) => bits < 256,
            _ => false,
        };
        if weak {
            report.push(Finding::new(
                &CERT_WEAK_KEY,
                loc("certificate"),
                format!("{bits}-bit key"),
            ));
        }
    }
    // Signature.
    let sig = cert.signature_algorithm.algorithm.to_id_string();
    let weak_sig = match sig.as_str() {
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.3.14.3.2.29" => Some("SHA-1"),
        "1.2.840.113549.1.1.4" | "1.2.840.113549.1.1.2" => Some("MD5/MD2"),
        _ => None,
    };
    if let Some(alg) = weak_sig {
        report.push(Finding::new(
            &CERT_SHA1,
            loc("certificate"),
            format!("signed with {alg}"),
        ));
    }
}
