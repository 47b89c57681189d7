//! Probes for what no modern TLS library will negotiate: TLS 1.0/1.1 and weak cipher
//! suites. Each probe sends one hand-built ClientHello and reads only the first
//! record back: a ServerHello naming a version and suite means "accepted", an alert
//! or a closed connection means "refused". No handshake is completed, so no key
//! material or cryptography is involved.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::rules::*;
use super::{connect, Target};
use crate::finding::{Finding, Location};
use crate::report::Report;

/// Suites a TLS 1.0/1.1 server would pick from, so version support is what is tested.
const COMMON_SUITES: &[u16] = &[
    0xc02f, 0xc030, 0xc02b, 0xc02c, 0xc013, 0xc014, 0xc009, 0xc00a, 0x009c, 0x009d, 0x002f, 0x0035,
    0x000a, 0x0005, 0x0004,
];

/// Suites that are weak at any version, with their names.
pub const WEAK_SUITES: &[(u16, &str)] = &[
    (0x0001, "TLS_RSA_WITH_NULL_MD5"),
    (0x0002, "TLS_RSA_WITH_NULL_SHA"),
    (0x003b, "TLS_RSA_WITH_NULL_SHA256"),
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA"),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
    (0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"),
    (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    (0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA (no forward secrecy)"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA (no forward secrecy)"),
    (
        0x003c,
        "TLS_RSA_WITH_AES_128_CBC_SHA256 (no forward secrecy)",
    ),
    (
        0x003d,
        "TLS_RSA_WITH_AES_256_CBC_SHA256 (no forward secrecy)",
    ),
    (
        0x009c,
        "TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy)",
    ),
    (
        0x009d,
        "TLS_RSA_WITH_AES_256_GCM_SHA384 (no forward secrecy)",
    ),
    (0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA (CBC)"),
    (0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA (CBC)"),
    (0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA (CBC)"),
    (0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA (CBC)"),
    (0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 (CBC)"),
    (0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 (CBC)"),
    (0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 (CBC)"),
    (0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 (CBC)"),
];

fn push_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn with_len16(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 2);
    push_u16(&mut out, u16::try_from(body.len()).unwrap_or(u16::MAX));
    out.extend_from_slice(body);
    out
}

fn extension(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_u16(&mut out, kind);
    out.extend(with_len16(data));
    out
}

/// A ClientHello record offering `version` and `suites`.
pub fn client_hello(host: &str, version: u16, suites: &[u16]) -> Vec<u8> {
    let mut body = Vec::new();
    push_u16(&mut body, version);
    // The random need not be random: nothing is derived from it.
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0); // no session id
    let mut s = Vec::new();
    for suite in suites {
        push_u16(&mut s, *suite);
    }
    body.extend(with_len16(&s));
    body.extend_from_slice(&[1, 0]); // compression: null only

    let mut exts = Vec::new();
    if host.parse::<std::net::IpAddr>().is_err() {
        let mut entry = vec![0u8];
        entry.extend(with_len16(host.as_bytes()));
        exts.extend(extension(0x0000, &with_len16(&entry)));
    }
    let mut groups = Vec::new();
    for g in [0x001d_u16, 0x0017, 0x0018] {
        push_u16(&mut groups, g);
    }
    exts.extend(extension(0x000a, &with_len16(&groups)));
    exts.extend(extension(0x000b, &[1, 0]));
    let mut sigs = Vec::new();
    for s in [
        0x0403_u16, 0x0503, 0x0804, 0x0805, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203,
    ] {
        push_u16(&mut sigs, s);
    }
    exts.extend(extension(0x000d, &with_len16(&sigs)));
    // Secure renegotiation signalling, which some servers require.
    exts.extend(extension(0xff01, &[0]));
    body.extend(with_len16(&exts));

    let mut hs = vec![1u8];
    let len = u32::try_from(body.len()).unwrap_or(0);
    hs.extend_from_slice(&len.to_be_bytes()[1..]);
    hs.extend(body);

    let mut record = vec![0x16, 0x03, 0x01];
    record.extend(with_len16(&hs));
    record
}

/// The (version, suite) of a ServerHello at the start of `data`, if it is one.
pub fn parse_server_hello(data: &[u8]) -> Option<(u16, u16)> {
    if data.len() < 5 || data[0] != 0x16 {
        return None;
    }
    let hs = data.get(5..)?;
    if *hs.first()? != 2 {
        return None;
    }
    let version = u16::from_be_bytes([*hs.get(4)?, *hs.get(5)?]);
    let sid_len = usize::from(*hs.get(38)?);
    let at = 39 + sid_len;
    let suite = u16::from_be_bytes([*hs.get(at)?, *hs.get(at + 1)?]);
    Some((version, suite))
}

/// Sends one ClientHello; `Some((version, suite))` when the server answers with a
/// ServerHello, `None` when it refuses (alert, close, garbage, timeout).
pub async fn offer(
    target: &Target,
    version: u16,
    suites: &[u16],
    timeout: Duration,
) -> Option<(u16, u16)> {
    let mut tcp = connect(&target.host, target.port, timeout).await.ok()?;
    let hello = client_hello(&target.host, version, suites);
    let io = async {
        tcp.write_all(&hello).await?;
        let mut buf = vec![0u8; 5];
        tcp.read_exact(&mut buf).await?;
        let len = usize::from(u16::from_be_bytes([buf[3], buf[4]])).min(16 * 1024);
        let mut rest = vec![0u8; len];
        tcp.read_exact(&mut rest).await?;
        buf.extend(rest);
        Ok::<_, std::io::Error>(buf)
    };
    let data = tokio::time::timeout(timeout, io).await.ok()?.ok()?;
    parse_server_hello(&data)
}

/// TLS 1.0/1.1 and weak suite checks.
pub async fn check(target: &Target, timeout: Duration, report: &mut Report, url: &str) {
    let loc = |o: &str| Location::target(url.to_owned()).with_object(o.to_owned());
    for (version, name) in [(0x0301_u16, "TLS 1.0"), (0x0302, "TLS 1.1")] {
        if let Some((v, _)) = offer(target, version, COMMON_SUITES, timeout).await {
            if v == version {
                report.push(Finding::new(
                    &OLD_TLS,
                    loc("TLS"),
                    format!("the server accepts {name}"),
                ));
            }
        }
    }
    // Enumerate accepted weak suites at TLS 1.2: offer them all, drop the one the
    // server picks, and ask again until it refuses.
    let mut offered: Vec<u16> = WEAK_SUITES.iter().map(|(s, _)| *s).collect();
    let mut accepted = Vec::new();
    while !offered.is_empty() {
        let Some((_, suite)) = offer(target, 0x0303, &offered, timeout).await else {
            break;
        };
        let Some(pos) = offered.iter().position(|s| *s == suite) else {
            break; // the server picked something not offered: stop rather than loop
        };
        offered.remove(pos);
        accepted.push(suite);
    }
    for suite in accepted {
        let name = WEAK_SUITES
            .iter()
            .find(|(s, _)| *s == suite)
            .map_or("unknown", |(_, n)| n);
        report.push(Finding::new(
            &WEAK_CIPHER,
            loc("TLS"),
            format!("the server accepts {name} (0x{suite:04x})"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_is_well_formed() {
        let h = client_hello("example.org", 0x0301, &[0x002f]);
        assert_eq!(&h[..3], &[0x16, 0x03, 0x01]);
        let rec_len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        assert_eq!(rec_len, h.len() - 5);
        assert_eq!(h[5], 1);
        assert!(h.windows(11).any(|w| w == b"example.org"));
    }

    #[test]
    fn server_hello_parses() {
        let mut sh = vec![0x16, 3, 3, 0, 0, 2, 0, 0, 0, 3, 3];
        sh.extend_from_slice(&[0; 32]);
        sh.push(0);
        sh.extend_from_slice(&[0xc0, 0x13, 0]);
        assert_eq!(parse_server_hello(&sh), Some((0x0303, 0xc013)));
        assert_eq!(parse_server_hello(&[0x15, 3, 3, 0, 2, 2, 70]), None);
        assert_eq!(parse_server_hello(&[]), None);
    }
}
