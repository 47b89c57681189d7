//! Tests for the inspection pipeline as a whole: extraction, decoding, scoring,
//! modes, exclusions and body discipline.
use super::*;

fn req<'a>(
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
) -> Request<'a> {
    Request {
        method: "POST",
        path,
        query,
        headers,
        body,
    }
}

#[test]
fn encoded_attacks_are_blocked() {
    let p = InspectPolicy::default();
    for q in [
        "q=1%27%20OR%20%271%27%3D%271",
        "q=%253Cscript%253Ealert(1)%253C%252Fscript%253E",
        "q=%EF%BC%9Cscript%EF%BC%9E",
        "q=PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "q=..%c0%af..%c0%afetc%c0%afpasswd",
        "q=http://0x7f000001/",
        "q=rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA",
    ] {
        let r = inspect(&req("/api/public/search", Some(q), &[], b""), &p);
        assert_eq!(r.verdict, Verdict::Block, "{q}: {r:?}");
    }
}

#[test]
fn benign_requests_pass() {
    let p = InspectPolicy::default();
    for q in [
        "q=O%27Brien",
        "q=I+would+like+to+select+one+or+two",
        "nombre=Jos%E9+Mar%EDa&apellido=Pe%F1a&ciudad=Le%F3n",
        "q=canci%C3%B3n+de+cuna",
        "q=1%2B1%3D2",
        "sort=price&order=desc&page=2",
    ] {
        let r = inspect(&req("/api/public/search", Some(q), &[], b""), &p);
        assert_eq!(r.verdict, Verdict::Pass, "{q}: {r:?}");
    }
}

#[test]
fn json_bodies() {
    let p = InspectPolicy::default();
    let h = [("content-type", "application/json")];
    let ok = br#"{"name":"Mar\u00eda O'Brien","comment":"select the blue one, or the red","tags":["a","b"],"n":3}"#;
    assert_eq!(inspect(&req("/f", None, &h, ok), &p).verdict, Verdict::Pass);
    let bad = br#"{"a":{"b":["x","<svg/onload=alert(1)>"]}}"#;
    let r = inspect(&req("/f", None, &h, bad), &p);
    assert_eq!(r.verdict, Verdict::Block);
    assert_eq!(r.findings[0].name, "a.b[1]");
    assert_eq!(r.findings[0].source, Source::Json);
    // Paths past one digit, and object keys with escapes (not borrowed).
    let many = br#"{"l":[0,1,2,3,4,5,6,7,8,9,10,"<script>x()</script>"],"k\u0031":"ok"}"#;
    let r = inspect(&req("/f", None, &h, many), &p);
    assert_eq!(r.findings[0].name, "l[11]", "{r:?}");
    // Duplicate keys, invalid JSON and deep nesting are body-discipline findings.
    for body in [&br#"{"a":1,"a":2}"#[..], b"{not json", &[b'['; 10_000][..]] {
        let r = inspect(&req("/f", None, &h, body), &p);
        assert_eq!(r.verdict, Verdict::Block);
        assert!(
            r.findings.iter().all(|f| f.detector == Detector::Body),
            "{r:?}"
        );
    }
}

#[test]
fn xml_doctype_is_refused() {
    let p = InspectPolicy::default();
    let h = [("content-type", "application/xml")];
    let xxe = b"<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
    let r = inspect(&req("/f", None, &h, xxe), &p);
    assert_eq!(r.verdict, Verdict::Block);
    assert_eq!(r.findings[0].detector, Detector::Xxe);
    let ok = b"<feedback><name>Ana</name><text lang=\"es\">Muy bien</text></feedback>";
    assert_eq!(inspect(&req("/f", None, &h, ok), &p).verdict, Verdict::Pass);
    // Text split by entity references is inspected whole, references decoded.
    let encoded = b"<feedback><text>&lt;script&gt;alert(1)&lt;/script&gt;</text></feedback>";
    let r = inspect(&req("/f", None, &h, encoded), &p);
    assert_eq!(r.verdict, Verdict::Block, "{r:?}");
    assert_eq!(r.findings[0].source, Source::XmlText);
    assert_eq!(r.findings[0].name, "feedback/text");
    let sqli = b"<q><term>1&apos; OR &apos;1&apos;=&apos;1</term></q>";
    assert_eq!(
        inspect(&req("/f", None, &h, sqli), &p).verdict,
        Verdict::Block
    );
    let benign = b"<r><t>Fish &amp; chips &#8212; O&apos;Brien&apos;s</t></r>";
    assert_eq!(
        inspect(&req("/f", None, &h, benign), &p).verdict,
        Verdict::Pass
    );
    let deep = "<a>".repeat(10_000);
    assert_eq!(
        inspect(&req("/f", None, &h, deep.as_bytes()), &p).verdict,
        Verdict::Block
    );
}

#[test]
fn multipart_fields_and_filenames() {
    let p = InspectPolicy::default();
    let h = [("content-type", "multipart/form-data; boundary=XyZ")];
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"msg\"\r\n\r\nhola\r\n--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../../etc/passwd\"\r\n\r\ndata\r\n--XyZ--\r\n";
    let r = inspect(&req("/f", None, &h, body), &p);
    assert_eq!(r.verdict, Verdict::Block, "{r:?}");
    assert!(r
        .findings
        .iter()
        .any(|f| f.source == Source::MultipartFilename));
}

#[test]
fn headers_and_cookies() {
    let p = InspectPolicy::default();
    let h = [
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"),
        ("X-Custom", "' UNION SELECT password FROM users--"),
    ];
    assert_eq!(
        inspect(&req("/", None, &h, b""), &p).verdict,
        Verdict::Block
    );
    let h = [("Cookie", "sid=abc; pref=<script>alert(1)</script>")];
    assert_eq!(
        inspect(&req("/", None, &h, b""), &p).verdict,
        Verdict::Block
    );
}

#[test]
fn detect_only_and_exclusions() {
    let mut p = InspectPolicy {
        mode: Mode::DetectOnly,
        ..InspectPolicy::default()
    };
    let q = Some("bio=%3Cb%3Ehi%3C%2Fb%3E%3Cscript%3Ex()%3C%2Fscript%3E");
    assert_eq!(
        inspect(&req("/", q, &[], b""), &p).verdict,
        Verdict::DetectOnly
    );
    p.mode = Mode::Block;
    p.exclusions.push(Exclusion {
        parameter: "bio".into(),
        source: Some(Source::Query),
        detectors: vec![Detector::Xss],
    });
    let r = inspect(&req("/", q, &[], b""), &p);
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    // The exclusion is per parameter: the same value elsewhere still blocks.
    let q2 = Some("name=%3Cscript%3Ex()%3C%2Fscript%3E");
    assert_eq!(inspect(&req("/", q2, &[], b""), &p).verdict, Verdict::Block);
}

#[test]
fn settings_validation() {
    let p = InspectPolicy {
        threshold: 0,
        ..InspectPolicy::default()
    };
    assert!(p.validate().is_err());
    let mut p = InspectPolicy::default();
    p.exclusions.push(Exclusion {
        parameter: "*".into(),
        source: None,
        detectors: vec![],
    });
    p.accepts.push("json".into());
    assert_eq!(p.validate().map_err(|e| e.len()), Err(2));
    assert!(InspectPolicy::default().validate().is_ok());
}

#[test]
fn excerpts_are_short_and_redacted() {
    assert_eq!(excerpt("password", "' or 1=1--"), "[redacted]");
    let long = "a".repeat(500);
    assert!(excerpt("q", &long).chars().count() <= 41);
}

#[test]
fn pathological_requests_are_bounded() {
    let p = InspectPolicy::default();
    // 100,000 parameters: extraction stops at the limit and says so.
    let q = "a=1&".repeat(100_000);
    let r = inspect(&req("/", Some(&q), &[], b""), &p);
    assert_eq!(r.verdict, Verdict::Block);
    assert!(r.findings.iter().any(|f| f.reason == "too-many-inputs"));
    // 1 MB of quotes in one value.
    let q = format!("q={}", "'".repeat(1 << 20));
    let _ = inspect(&req("/", Some(&q), &[], b""), &p);
    // 10,000-deep JSON objects.
    let h = [("content-type", "application/json")];
    let deep = "{\"a\":".repeat(10_000);
    assert_eq!(
        inspect(&req("/", None, &h, deep.as_bytes()), &p).verdict,
        Verdict::Block
    );
}

#[test]
fn the_shared_gate_covers_every_detector_gate() {
    use super::prefilter::ByteSet;
    // Each byte outside the shared gate, alone and among letters, can trigger none
    // of the gated detectors: proof that skipping them changes no verdict.
    for c in 0u8..0x80 {
        let one = ByteSet::from_bytes(&[c]);
        if one.intersects(&PATTERN_BYTES) {
            continue;
        }
        let s = format!("a{}b {} 1", char::from(c), char::from(c));
        let set = ByteSet::of(s.as_bytes());
        assert!(xss::check_set(&s, &set).is_none(), "{c}");
        assert!(cmdi::check_set(&s, &set).is_none(), "{c}");
        assert!(traversal::check_set(&s, true, &set).is_none(), "{c}");
        assert!(xxe::check_set(&s, &set).is_none(), "{c}");
        assert!(nosql::check_set(&s, Source::JsonKey, &set).is_none(), "{c}");
        assert!(ldap::check_set(&s, &set).is_none(), "{c}");
        assert!(ssi::check_set(&s, &set).is_none(), "{c}");
        assert!(ssti::check_set(&s, &set).is_none(), "{c}");
        assert!(crlf::check_set(&s, &set).is_none(), "{c}");
        assert!(mail::check_set(&s, &set).is_none(), "{c}");
        assert!(
            scanner::check_set(&s, Source::Header, &set).is_none(),
            "{c}"
        );
    }
    // And every detector's own trigger set is inside the shared one.
    for own in [
        b"<:=(`.[-".as_slice(),
        b";|&`$\n\r<{\"(",
        b"./\\:_\0",
        b"!<:+",
        b"$.;|&=",
        b"(:",
        b"<",
        b"{<#",
        b"\r\n",
        b".",
    ] {
        assert!(
            ByteSet::from_bytes(own).is_subset(&PATTERN_BYTES),
            "{own:?}"
        );
    }
}

#[test]
fn pathological_values_for_the_newer_detectors() {
    // 64 KB of each detector's opening shape, nested or repeated: every scan moves
    // forward (or is bounded), so each finishes in one pass; a scan that restarted
    // from every unit would take billions of steps here and time the test out.
    for unit in [
        "${",
        "{{",
        "${${",
        "{%",
        "<%",
        "(&(",
        "(|(a=",
        ")(cn=",
        "a:dn:",
        "$ne:",
        "[$gt]",
        "db.x.",
        ";var x=",
        "<!--#",
        "\r\n",
        "\u{560D}",
        "\nRCPT TO:",
        "\"&\"eval(",
        "(",
        "(alert",
        "o<x>n",
    ] {
        let s = unit.repeat((1 << 16) / unit.len());
        for source in [Source::Query, Source::JsonKey, Source::Header] {
            let _ = inspect_value(&s, source);
        }
    }
    // A long `:dn:dn:…` chain is read two parts deep from each colon, not followed
    // to its end; with no `:=` anywhere it is no filter at all.
    let chain = format!("cn{}x", ":dn".repeat(100_000));
    assert!(ldap::check(&chain).is_none());
    assert!(ldap::check("cn:dn:2.5.13.5:=x").is_some());
}

#[test]
fn scanner_names_count_in_the_user_agent_only() {
    let p = InspectPolicy::default();
    let ua = [("user-agent", "sqlmap/1.7.4#stable (https://sqlmap.org)")];
    assert_eq!(
        inspect(&req("/", None, &ua, b""), &p).verdict,
        Verdict::Block
    );
    let referer = [("referer", "https://sqlmap.org/")];
    assert_eq!(
        inspect(&req("/", None, &referer, b""), &p).verdict,
        Verdict::Pass
    );
    // And the detector's weight applies like any other.
    let mut off = InspectPolicy::default();
    off.weights.insert(Detector::Scanner, 0);
    assert_eq!(
        inspect(&req("/", None, &ua, b""), &off).verdict,
        Verdict::Pass
    );
}
