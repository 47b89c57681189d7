//! Test corpora in the gotestwaf format, turned into requests and scored.
//!
//! A gotestwaf test case is a YAML file listing payloads, encoders and placeholders;
//! every `payload × encoder × placeholder` is one request, built the way gotestwaf
//! builds it: `URL` encoding is Go's `url.QueryEscape`, `Base64Flat` is standard
//! base64; placeholders are the URL path, a query parameter, a custom `X-` header,
//! the User-Agent, an urlencoded form, a multipart form, a JSON object, an XML body
//! and a SOAP envelope. `RawRequest`, GraphQL and gRPC placeholders are counted as
//! not built. Files under a `false-pos` directory are benign.
//!
//! The same requests serve `centinela inspect eval` (scored in process against a
//! route's inspection settings) and the bench's end-to-end replay against running
//! proxies, so both measure the same thing.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;

use super::{inspect, InspectPolicy, Request, Verdict};

/// Where corpus requests are addressed: the example's public search route.
pub const BASE: &str = "/api/public/search";

/// One test case (one YAML file).
#[derive(Clone, Debug, Default)]
pub struct Case {
    /// The file, relative to the corpus root.
    pub file: String,
    pub payloads: Vec<String>,
    pub encoders: Vec<String>,
    pub placeholders: Vec<String>,
    /// The case's `type` (`SQL Injection`, `8KB XSS`, `Path Traversal`, ...).
    pub kind: String,
    /// From a `false-pos` set: legitimate traffic that must pass.
    pub benign: bool,
}

impl Case {
    /// Reads a gotestwaf test case: the `payload`, `encoder` and `placeholder` lists
    /// and the `type`. Go's YAML accepts `\'` inside double quotes, which strict YAML
    /// does not; it is read as `'` (as gotestwaf's own parser does).
    pub fn parse(file: &str, text: &str) -> Result<Self, String> {
        use yaml_rust2::{Yaml, YamlLoader};
        let docs = YamlLoader::load_from_str(&text.replace("\\'", "'"))
            .map_err(|e| format!("{file}: {e}"))?;
        let doc = docs.into_iter().next().unwrap_or(Yaml::Null);
        let list = |key: &str| -> Vec<String> {
            match &doc[key] {
                Yaml::Array(items) => items
                    .iter()
                    .filter_map(|y| match y {
                        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
                        Yaml::Integer(i) => Some(i.to_string()),
                        _ => None,
                    })
                    .collect(),
                Yaml::String(s) => vec![s.clone()],
                _ => Vec::new(),
            }
        };
        Ok(Self {
            file: file.to_owned(),
            payloads: list("payload"),
            encoders: list("encoder"),
            placeholders: list("placeholder"),
            kind: doc["type"].as_str().unwrap_or_default().to_owned(),
            benign: file.split(['/', '\\']).any(|c| c == "false-pos"),
        })
    }

    /// The comparison group: `SQL injection`, `XSS`, `shell injection`,
    /// `path traversal`, `XML`, `other`, or `benign` for false-positive sets.
    pub fn category(&self) -> &'static str {
        if self.benign {
            return "benign";
        }
        // By the case's type, then by its file name when the type says nothing.
        let kind = self.kind.to_ascii_lowercase();
        let f = self.file.rsplit(['/', '\\']).next().unwrap_or(&self.file);
        let has = |needle: &str| kind.contains(needle) || (kind.is_empty() && f.contains(needle));
        if has("nosql") {
            "other"
        } else if has("sql") {
            "SQL injection"
        } else if has("xss") {
            "XSS"
        } else if has("shell") || has("rce") {
            "shell injection"
        } else if has("traversal") || has("lfi") {
            "path traversal"
        } else if has("xxe") || has("xml") || has("soap") {
            "XML"
        } else {
            "other"
        }
    }

    /// Every request of the case, and how many combinations could not be built
    /// (unknown encoder, or a placeholder not reproduced here).
    pub fn requests(&self) -> (Vec<CorpusRequest>, usize) {
        let mut out = Vec::new();
        let mut skipped = 0;
        for p in &self.payloads {
            for e in &self.encoders {
                for ph in &self.placeholders {
                    match encode(e, p).and_then(|v| build(ph, &v, out.len())) {
                        Some(r) => out.push(r),
                        None => skipped += 1,
                    }
                }
            }
        }
        (out, skipped)
    }
}

/// Go's `url.QueryEscape`: unreserved bytes kept, space as `+`, the rest `%XX`.
fn query_escape(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A payload through one of gotestwaf's encoders.
pub fn encode(encoder: &str, payload: &str) -> Option<String> {
    match encoder {
        "Plain" => Some(payload.to_owned()),
        "URL" => Some(query_escape(payload)),
        "Base64Flat" => Some(base64::engine::general_purpose::STANDARD.encode(payload)),
        _ => None,
    }
}

/// One request of a corpus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusRequest {
    pub method: &'static str,
    /// Path and query, starting with `/`.
    pub target: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl CorpusRequest {
    /// The request as the inspector sees it.
    pub fn as_request<'a>(&'a self, headers: &'a [(&'a str, &'a str)]) -> Request<'a> {
        let (path, query) = match self.target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.target.as_str(), None),
        };
        Request {
            method: self.method,
            path,
            query,
            headers,
            body: &self.body,
        }
    }
}

/// The request gotestwaf sends for one placement, or `None` for the placements not
/// reproduced here. `n` makes parameter names unique.
pub fn build(placeholder: &str, v: &str, n: usize) -> Option<CorpusRequest> {
    let name = format!("p{n:06x}");
    let get = |target: String, headers: Vec<(String, String)>| CorpusRequest {
        method: "GET",
        target,
        headers,
        body: Vec::new(),
    };
    let post = |ct: &str, body: Vec<u8>| CorpusRequest {
        method: "POST",
        target: BASE.to_owned(),
        headers: vec![("content-type".into(), ct.to_owned())],
        body,
    };
    Some(match placeholder {
        "URLPath" => get(format!("{BASE}/{v}"), Vec::new()),
        "URLParam" => get(format!("{BASE}?{name}={v}"), Vec::new()),
        "Header" => get(BASE.to_owned(), vec![(format!("x-{name}"), v.to_owned())]),
        "UserAgent" => get(BASE.to_owned(), vec![("user-agent".into(), v.to_owned())]),
        "HTMLForm" => post(
            "application/x-www-form-urlencoded",
            format!("{name}={v}").into_bytes(),
        ),
        "HTMLMultipartForm" => {
            let boundary = "----gotestwafboundary7MA4YWxkTrZu0gW";
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{v}\r\n--{boundary}--\r\n"
            );
            post(
                &format!("multipart/form-data; boundary={boundary}"),
                body.into_bytes(),
            )
        }
        "JSONRequest" | "JSONBody" => {
            let body = serde_json::json!({ "test": true, name: v }).to_string();
            post("application/json", body.into_bytes())
        }
        "XMLBody" => post("text/xml", v.as_bytes().to_vec()),
        "SOAPBody" => {
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><{name}>{v}</{name}></soap:Body></soap:Envelope>"
            );
            post("text/xml", body.into_bytes())
        }
        _ => return None,
    })
}

/// The requests of a CSIC 2010 traffic file (`normalTrafficTraining.txt`): blocks of
/// a request line, headers and, after a `Content-Length`, one body line, with the
/// `http://localhost:8080` prefix of its targets removed. Header names lower-cased.
pub fn csic_requests(text: &str) -> Vec<CorpusRequest> {
    let text = text.replace("\r\n", "\n");
    let mut out = Vec::new();
    let mut it = text.split('\n').peekable();
    loop {
        while it.peek().is_some_and(|l| l.trim().is_empty()) {
            it.next();
        }
        let Some(reqline) = it.next() else { break };
        let mut headers: Vec<(String, String)> = Vec::new();
        for l in it.by_ref() {
            if l.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
        }
        let body = if headers.iter().any(|(k, _)| k == "content-length") {
            it.next().unwrap_or("").as_bytes().to_vec()
        } else {
            Vec::new()
        };
        let method = match reqline.split(' ').next() {
            Some("POST") => "POST",
            Some("PUT") => "PUT",
            _ => "GET",
        };
        let target = reqline.split(' ').nth(1).unwrap_or("/");
        let target = target
            .strip_prefix("http://localhost:8080")
            .unwrap_or(target)
            .to_owned();
        out.push(CorpusRequest {
            method,
            target,
            headers,
            body,
        });
    }
    out
}

/// Counts of one category (the JSON field names are an interface).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    pub attack_total: usize,
    pub attack_blocked: usize,
    pub benign_total: usize,
    pub benign_passed: usize,
}

impl Count {
    /// Adds one request's outcome.
    pub fn add(&mut self, benign: bool, blocked: bool) {
        if benign {
            self.benign_total += 1;
            self.benign_passed += usize::from(!blocked);
        } else {
            self.attack_total += 1;
            self.attack_blocked += usize::from(blocked);
        }
    }
}

/// A request judged the wrong way: an attack that passed, or a benign request that
/// was blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Miss {
    pub file: String,
    pub benign: bool,
    pub request: CorpusRequest,
}

/// The score of a corpus: per category and in total, plus what was not built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Score {
    pub categories: BTreeMap<&'static str, Count>,
    pub total: Count,
    pub skipped: usize,
    /// The first wrong verdicts (up to the limit given to [`score`]).
    pub misses: Vec<Miss>,
}

/// Runs every request of `cases` through the inspector with `policy`. A request is
/// blocked when the verdict is `Block` (what the gateway refuses with 403).
pub fn score(cases: &[Case], policy: &InspectPolicy, keep_misses: usize) -> Score {
    let mut s = Score::default();
    for case in cases {
        let (reqs, skipped) = case.requests();
        s.skipped += skipped;
        let cat = case.category();
        for r in &reqs {
            let hs: Vec<(&str, &str)> = r
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let blocked = inspect(&r.as_request(&hs), policy).verdict == Verdict::Block;
            s.categories
                .entry(cat)
                .or_default()
                .add(case.benign, blocked);
            s.total.add(case.benign, blocked);
            if blocked == case.benign && s.misses.len() < keep_misses {
                s.misses.push(Miss {
                    file: case.file.clone(),
                    benign: case.benign,
                    request: r.clone(),
                });
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQLI: &str = "payload:\n  - \"' or 1=1 --\"\n  - 'union select 1,2'\nencoder:\n  - Plain\n  - URL\n  - Rot13\nplaceholder:\n  - URLParam\n  - JSONRequest\n  - GraphQL\ntype: SQL Injection\n";

    #[test]
    fn cases_expand_to_requests_and_count_what_is_not_built() {
        let case = Case::parse("owasp/sql-injection.yml", SQLI).expect("yaml");
        assert_eq!(case.payloads, ["' or 1=1 --", "union select 1,2"]);
        assert!(!case.benign);
        assert_eq!(case.category(), "SQL injection");
        let (reqs, skipped) = case.requests();
        // 2 payloads × 2 known encoders × 2 known placeholders; the rest skipped.
        assert_eq!(reqs.len(), 8);
        assert_eq!(skipped, 2 * 3 * 3 - 8);
        assert_eq!(reqs[0].target, "/api/public/search?p000000=' or 1=1 --");
        assert_eq!(reqs[2].target, "/api/public/search?p000002=%27+or+1%3D1+--");
        assert_eq!(reqs[1].headers[0].1, "application/json");
    }

    #[test]
    fn benign_sets_and_scores() {
        let benign = Case::parse(
            "false-pos/texts.yml",
            "payload:\n  - 'I would like to select one or two'\nencoder:\n  - URL\nplaceholder:\n  - URLParam\n  - HTMLForm\n",
        )
        .expect("yaml");
        assert!(benign.benign);
        assert_eq!(benign.category(), "benign");
        let attack = Case::parse("owasp/sql-injection.yml", SQLI).expect("yaml");
        let s = score(&[attack, benign], &InspectPolicy::default(), 10);
        assert!(s.misses.is_empty(), "{:?}", s.misses);
        let sql = s.categories["SQL injection"];
        assert_eq!(sql.attack_total, 8);
        assert_eq!(sql.attack_blocked, 8, "{s:?}");
        assert_eq!(s.categories["benign"].benign_total, 2);
        assert_eq!(s.categories["benign"].benign_passed, 2, "{s:?}");
        assert_eq!(s.total.attack_total + s.total.benign_total, 10);
    }

    #[test]
    fn csic_blocks_become_requests() {
        let text = "GET http://localhost:8080/tienda1/index.jsp HTTP/1.1\r\nHost: localhost:8080\r\n\r\n\r\n\
                    POST http://localhost:8080/tienda1/miembros/editar.jsp HTTP/1.1\r\nContent-Length: 12\r\n\r\nnombre=Jos%E9\r\n";
        let reqs = csic_requests(text);
        assert_eq!(reqs.len(), 2);
        assert_eq!(
            (reqs[0].method, reqs[0].target.as_str()),
            ("GET", "/tienda1/index.jsp")
        );
        assert_eq!(
            reqs[0].headers,
            [("host".to_owned(), "localhost:8080".to_owned())]
        );
        assert_eq!(reqs[1].method, "POST");
        assert_eq!(reqs[1].body, b"nombre=Jos%E9");
    }

    #[test]
    fn go_query_escape_and_double_quoted_escapes() {
        assert_eq!(encode("URL", "a b/<c>").as_deref(), Some("a+b%2F%3Cc%3E"));
        assert_eq!(encode("Base64Flat", "hi").as_deref(), Some("aGk="));
        let c = Case::parse("x.yml", "payload:\n  - \"\\'-alert(1)//\"\n").expect("yaml");
        assert_eq!(c.payloads, ["'-alert(1)//"]);
        // A double-quoted scalar continued over lines with `\`.
        let c = Case::parse(
            "x.yml",
            "payload:\n  - \"AAAA\\\n    BBBB' UNION SELECT 1\"\ntype: 8KB SQL Injection\n",
        )
        .expect("yaml");
        assert_eq!(c.payloads, ["AAAABBBB' UNION SELECT 1"]);
        assert_eq!(c.category(), "SQL injection");
        let nosql =
            Case::parse("owasp/nosql-injection.yml", "type: NoSQL Injection\n").expect("yaml");
        assert_eq!(nosql.category(), "other");
        assert!(Case::parse("bad.yml", "payload: [unclosed").is_err());
    }
}
