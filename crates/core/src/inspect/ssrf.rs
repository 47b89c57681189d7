//! Server-side request forgery: URL-valued parameters pointing at loopback,
//! link-local, cloud-metadata or private addresses, in any of the spellings an HTTP
//! client accepts (`2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`, `[::1]`,
//! `[::ffff:127.0.0.1]`, `localtest.me`-style names), and schemes that reach
//! non-HTTP services (`gopher://`, `dict://`).
//!
//! Every `scheme://` in the value is looked at (a URL may hide inside another one's
//! query). Host parsing is bounded and linear.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{severity, Detector, Hit};

fn hit(sev: u32, reason: &'static str) -> Option<Hit> {
    Some(Hit {
        detector: Detector::Ssrf,
        severity: sev,
        reason,
    })
}

/// Hostnames that resolve to loopback or metadata endpoints.
const INTERNAL_NAMES: &[&str] = &[
    "localhost",
    "metadata.google.internal",
    "metadata",
    "instance-data",
    "kubernetes.default",
    "kubernetes.default.svc",
    "localtest.me",
    "lvh.me",
    "vcap.me",
    "169.254.169.254.nip.io",
    "metadata.azure.com",
];

/// Checks one decoded form.
pub fn check(s: &str) -> Option<Hit> {
    let b = s.as_bytes();
    let mut best: Option<Hit> = None;
    let mut i = 0;
    while let Some(off) = memchr::memmem::find(&b[i..], b"://") {
        let p = i + off;
        i = p + 3;
        let scheme_start = b[..p]
            .iter()
            .rposition(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
            .map_or(0, |x| x + 1);
        let scheme = s[scheme_start..p].to_ascii_lowercase();
        let h = match scheme.as_str() {
            "gopher" | "dict" | "ldap" | "ldaps" | "tftp" | "jar" | "netdoc" | "sftp" | "rmi" => {
                hit(severity::CRITICAL, "dangerous-scheme")
            }
            "http" | "https" | "ftp" | "ws" | "wss" | "" => host_check(&s[p + 3..]),
            _ => None,
        };
        if let Some(h) = h {
            if best.is_none_or(|x| h.severity > x.severity) {
                best = Some(h);
            }
        }
    }
    best
}

/// Judges the authority part of a URL.
fn host_check(rest: &str) -> Option<Hit> {
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let auth = &rest[..end.min(300)];
    // `http://trusted@127.0.0.1/` — the host is after the last `@`.
    let host_port = auth.rsplit('@').next().unwrap_or(auth);
    let host = if let Some(h) = host_port.strip_prefix('[') {
        h.split(']').next().unwrap_or(h)
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, port)| {
            if port.bytes().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host_port
            }
        })
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    if INTERNAL_NAMES
        .iter()
        .any(|n| host == *n || host.ends_with(&format!(".{n}")))
    {
        return hit(severity::CRITICAL, "internal-host");
    }
    // Wildcard DNS services that echo an IP embedded in the name.
    for svc in [".nip.io", ".sslip.io", ".xip.io", ".localtest.me"] {
        if let Some(prefix) = host.strip_suffix(svc) {
            let ip = prefix.rsplit(['-', '.']).take(4).collect::<Vec<_>>();
            let guess: Vec<&str> = ip.into_iter().rev().collect();
            if let Some(v4) = parse_v4(&guess.join(".")) {
                return classify_v4(v4);
            }
            return hit(severity::WARNING, "wildcard-dns");
        }
    }
    if host.contains(':') {
        let v6: Ipv6Addr = host.split('%').next().unwrap_or(&host).parse().ok()?;
        if let Some(v4) = v6.to_ipv4_mapped() {
            return classify_v4(v4);
        }
        if v6.is_loopback() || v6.is_unspecified() {
            return hit(severity::CRITICAL, "loopback");
        }
        let seg = v6.segments();
        if seg[0] & 0xffc0 == 0xfe80 {
            return hit(severity::CRITICAL, "link-local");
        }
        if seg[0] == 0xfd00 && seg[1] == 0x0ec2 {
            return hit(severity::CRITICAL, "cloud-metadata");
        }
        if seg[0] & 0xfe00 == 0xfc00 {
            return hit(severity::WARNING, "private-address");
        }
        // IPv4-compatible (deprecated) `::127.0.0.1`.
        if seg[..6].iter().all(|&x| x == 0) {
            return classify_v4(Ipv4Addr::new(
                (seg[6] >> 8) as u8,
                seg[6] as u8,
                (seg[7] >> 8) as u8,
                seg[7] as u8,
            ));
        }
        return None;
    }
    parse_v4(&host).and_then(classify_v4)
}

/// Parses IPv4 the permissive way (`inet_aton`): 1–4 parts, each decimal, octal
/// (leading 0) or hex (`0x`); the last part fills the remaining bytes.
pub fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        let v = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            if h.is_empty() {
                0
            } else {
                u64::from_str_radix(h, 16).ok()?
            }
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(p, 8).ok()?
        } else {
            p.parse::<u64>().ok()?
        };
        nums.push(v);
    }
    let (last, init) = nums.split_last()?;
    let mut addr: u64 = 0;
    for &n in init {
        if n > 255 {
            return None;
        }
        addr = addr << 8 | n;
    }
    let rem_bits = 8 * (4 - init.len() as u32);
    if *last >= 1u64 << rem_bits {
        return None;
    }
    addr = addr << rem_bits | last;
    Some(Ipv4Addr::from(u32::try_from(addr).ok()?))
}

fn classify_v4(ip: Ipv4Addr) -> Option<Hit> {
    let o = ip.octets();
    if ip.is_loopback() || ip.is_unspecified() {
        return hit(severity::CRITICAL, "loopback");
    }
    if o == [169, 254, 169, 254] || o == [100, 100, 100, 200] || o == [169, 254, 170, 2] {
        return hit(severity::CRITICAL, "cloud-metadata");
    }
    if ip.is_link_local() {
        return hit(severity::CRITICAL, "link-local");
    }
    if ip.is_private() || o[0] == 0 || (o[0] == 100 && (64..128).contains(&o[1])) {
        return hit(severity::WARNING, "private-address");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sev(s: &str) -> u32 {
        check(s).map_or(0, |h| h.severity)
    }

    #[test]
    fn internal_forms() {
        for s in [
            "http://127.0.0.1/admin",
            "http://localhost:8080/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://evil.com@127.0.0.1/",
            "gopher://x:70/_hi",
            "https://127.0.0.1.nip.io/",
            "http://0/",
            "url=http://[fd00:ec2::254]/",
        ] {
            assert_eq!(sev(s), severity::CRITICAL, "{s}");
        }
        assert_eq!(sev("http://10.0.0.5/"), severity::WARNING);
    }

    #[test]
    fn external() {
        for s in [
            "https://example.com/a?b=c",
            "http://8.8.8.8/",
            "see https://www.csic.es",
            "http://1270.0.0.1.example/",
        ] {
            assert_eq!(sev(s), 0, "{s}");
        }
    }
}
