//! Scores Centinela's request inspection on the shared corpora and prints detection
//! and false-positive tables per set.
//!
//! Usage: `cargo run --release -p centinela-bench --bin score_corpus -- ../shared/corpus [--show-misses N]`
//!
//! Two kinds of held-back data:
//! - Whole sets held out: payloadbox, PayloadsAllTheThings and nemesida are printed
//!   in a separate "validation sets" table and their misses are never printed, so
//!   nobody tunes on them. They are the figure for data the detectors were not
//!   shaped by.
//! - Within the sets that are tuned on (libinjection, gotestwaf, CSIC 2010), every
//!   payload is put in a training or a validation split by a hash of its bytes (one
//!   in five goes to validation); `--show-misses` prints training items only.
//!
//! Sets:
//! - libinjection `data/`: inputs URL-decoded as upstream's reader does; the SQLi
//!   files are scored with the SQL detector alone, the XSS files with the XSS
//!   detector alone, `false_positives.txt` with the SQL detector (that is what
//!   upstream's figures count) and with all detectors. `libinjectionrs` 0.1 runs on
//!   the same inputs for comparison.
//! - payloadbox, PayloadsAllTheThings, nemesida (held out) and gotestwaf payload
//!   lists: each payload as one query value through every detector.
//! - csic2010 normal traffic: every request through the full [`inspect`] with the
//!   default policy (what the gateway does).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use centinela_core::inspect::{
    self, corpus, decode, sqli, xss, InspectPolicy, Request, Source, Verdict,
};

/// Training/validation counts for one set.
#[derive(Default, Clone, Copy)]
struct Tally {
    train: (usize, usize),
    val: (usize, usize),
}

impl Tally {
    fn add(&mut self, key: &[u8], flagged: bool) {
        let t = if is_validation(key) {
            &mut self.val
        } else {
            &mut self.train
        };
        t.0 += usize::from(flagged);
        t.1 += 1;
    }
    fn total(&self) -> (usize, usize) {
        (self.train.0 + self.val.0, self.train.1 + self.val.1)
    }
}

fn is_validation(key: &[u8]) -> bool {
    // A fixed FNV-1a hash, so the split is the same on every machine and run.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 5 == 0
}

fn pct(a: usize, n: usize) -> String {
    if n == 0 {
        "-".to_owned()
    } else {
        format!("{:.2}%", 100.0 * a as f64 / n as f64)
    }
}

struct Row {
    set: String,
    label: &'static str,
    what: &'static str,
    tally: Tally,
    reference: String,
}

fn print_rows(rows: &[Row]) {
    println!("| set | label | counted as flagged | total | train | validation | reference |");
    println!("|---|---|---|---|---|---|---|");
    for r in rows {
        let (a, n) = r.tally.total();
        println!(
            "| {} | {} | {} | {a}/{n} ({}) | {}/{} ({}) | {}/{} ({}) | {} |",
            r.set,
            r.label,
            r.what,
            pct(a, n),
            r.tally.train.0,
            r.tally.train.1,
            pct(r.tally.train.0, r.tally.train.1),
            r.tally.val.0,
            r.tally.val.1,
            pct(r.tally.val.0, r.tally.val.1),
            r.reference
        );
    }
}

fn any_detector(v: &str) -> bool {
    inspect::inspect_value(v, Source::Query)
        .iter()
        .any(|h| h.severity >= inspect::severity::CRITICAL)
}

/// Whether the SQL detector flags `raw` as the gateway sees it in a query string:
/// the raw spelling and each decoded form.
fn sqli_gateway(raw: &str) -> bool {
    inspect::inspect_value(raw, Source::Query)
        .iter()
        .any(|h| h.detector == inspect::Detector::Sqli)
}

fn lines(path: &Path) -> Vec<String> {
    match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b)
            .lines()
            .map(str::to_owned)
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn files_under(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, ext, out);
        } else if p.to_string_lossy().ends_with(ext) {
            out.push(p);
        }
    }
}

struct Opts {
    show: usize,
    shown: usize,
}

impl Opts {
    fn miss(&mut self, what: &str, key: &str) {
        if self.shown < self.show && !is_validation(key.as_bytes()) {
            self.shown += 1;
            println!("  miss[{what}]: {}", key.escape_debug());
        }
    }
}

fn libinjection(root: &Path, rows: &mut Vec<Row>, o: &mut Opts) {
    let dir = root.join("libinjection/data");
    let mut files = Vec::new();
    files_under(&dir, ".txt", &mut files);
    let mut sqli_t = Tally::default();
    let mut sqli_ref = Tally::default();
    let mut sqli_gw = Tally::default();
    let mut fp_gw = Tally::default();
    let mut xss_t = Tally::default();
    let mut xss_ref = Tally::default();
    let mut fp_sqli = Tally::default();
    let mut fp_any = Tally::default();
    let mut fp_ref = Tally::default();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = if name.starts_with("sqli-") {
            1
        } else if name.starts_with("xss-") {
            2
        } else if name == "false_positives.txt" {
            3
        } else {
            continue;
        };
        for l in lines(&f) {
            let l = l.trim_end();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let v = decode::percent(l, true).into_owned();
            let key = v.as_bytes();
            match kind {
                1 => {
                    let hit = sqli::is_sqli(&v);
                    if !hit {
                        o.miss("sqli", &v);
                    }
                    sqli_t.add(key, hit);
                    sqli_gw.add(key, sqli_gateway(l));
                    sqli_ref.add(key, libinjectionrs::detect_sqli(key).is_injection());
                }
                2 => {
                    let hit =
                        xss::check(&v).is_some_and(|h| h.severity >= inspect::severity::CRITICAL);
                    if !hit {
                        o.miss("xss", &v);
                    }
                    xss_t.add(key, hit);
                    xss_ref.add(key, libinjectionrs::detect_xss(key).is_injection());
                }
                _ => {
                    let s = sqli::is_sqli(&v);
                    if s {
                        o.miss("false-positive", &v);
                    }
                    fp_sqli.add(key, s);
                    fp_gw.add(key, sqli_gateway(l));
                    fp_any.add(key, any_detector(&v));
                    fp_ref.add(key, libinjectionrs::detect_sqli(key).is_injection());
                }
            }
        }
    }
    let r = |t: Tally| {
        let (a, n) = t.total();
        format!("libinjectionrs {a}/{n}")
    };
    rows.push(Row {
        set: "libinjection sqli-*".into(),
        label: "attack",
        what: "sqli detector",
        tally: sqli_t,
        reference: format!("C 17131/17149; {}", r(sqli_ref)),
    });
    rows.push(Row {
        set: "libinjection sqli-*".into(),
        label: "attack",
        what: "sqli detector, on the line as a query value (raw + decoded forms)",
        tally: sqli_gw,
        reference: String::new(),
    });
    rows.push(Row {
        set: "libinjection xss-*".into(),
        label: "attack",
        what: "xss detector",
        tally: xss_t,
        reference: format!("C 1640/1645; {}", r(xss_ref)),
    });
    rows.push(Row {
        set: "libinjection false_positives".into(),
        label: "benign",
        what: "sqli detector",
        tally: fp_sqli,
        reference: format!("C 21/421; {}", r(fp_ref)),
    });
    rows.push(Row {
        set: "libinjection false_positives".into(),
        label: "benign",
        what: "sqli detector, on the line as a query value (raw + decoded forms)",
        tally: fp_gw,
        reference: String::new(),
    });
    rows.push(Row {
        set: "libinjection false_positives".into(),
        label: "benign",
        what: "any detector",
        tally: fp_any,
        reference: String::new(),
    });
}

/// The held-out sets (payload lists and nemesida): scored, never shown as misses.
fn payload_lists(root: &Path, rows: &mut Vec<Row>) {
    let sets: &[(&str, &str, &str)] = &[
        ("payloadbox-sqli", "payloadbox-sqli/Intruder", ".txt"),
        ("payloadbox-xss", "payloadbox-xss/Intruder", ".txt"),
        (
            "PATT SQL Injection",
            "payloadsallthethings/SQL Injection/Intruder",
            "",
        ),
        (
            "PATT XSS Injection",
            "payloadsallthethings/XSS Injection/Intruders",
            "",
        ),
        (
            "PATT XXE Intruders",
            "payloadsallthethings/XXE Injection/Intruders",
            "",
        ),
    ];
    for (set, dir, ext) in sets {
        let mut files = Vec::new();
        files_under(&root.join(dir), ext, &mut files);
        let mut t = Tally::default();
        for f in files {
            for l in lines(&f) {
                let l = l.trim_end();
                if l.trim().is_empty() {
                    continue;
                }
                t.add(l.as_bytes(), any_detector(l));
            }
        }
        rows.push(Row {
            set: (*set).into(),
            label: "attack",
            what: "any detector",
            tally: t,
            reference: String::new(),
        });
    }
    // Whole-document sets: XXE files and the payloadbox XXE notes (blank-line separated).
    let mut t = Tally::default();
    let mut files = Vec::new();
    files_under(
        &root.join("payloadsallthethings/XXE Injection/Files"),
        "",
        &mut files,
    );
    for f in files {
        let doc = String::from_utf8_lossy(&std::fs::read(&f).unwrap_or_default()).into_owned();
        if doc.trim().is_empty() {
            continue;
        }
        t.add(doc.as_bytes(), xml_body_refused(&doc));
    }
    for doc in std::fs::read_to_string(
        root.join("payloadbox-xxe/Intruder/xxe-injection-payload-list.txt.txt"),
    )
    .unwrap_or_default()
    .split("\n\n")
    {
        let doc = doc.trim();
        if doc.is_empty() || doc.starts_with('*') || !doc.contains('<') {
            continue;
        }
        t.add(doc.as_bytes(), xml_body_refused(doc));
    }
    rows.push(Row {
        set: "XXE documents (PATT Files + payloadbox)".into(),
        label: "attack",
        what: "as XML body",
        tally: t,
        reference: String::new(),
    });
}

fn xml_body_refused(doc: &str) -> bool {
    let headers = [("content-type", "application/xml")];
    let req = Request {
        method: "POST",
        path: "/api/x",
        query: None,
        headers: &headers,
        body: doc.as_bytes(),
    };
    inspect::inspect(&req, &InspectPolicy::default()).verdict == Verdict::Block
}

fn nemesida(root: &Path, rows: &mut Vec<Row>) {
    let mut files = Vec::new();
    files_under(
        &root.join("nemesida-waf-bypass/utils/payload"),
        ".json",
        &mut files,
    );
    let mut att = Tally::default();
    let mut ben = Tally::default();
    for f in files {
        let Ok(v) =
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(&f).unwrap_or_default())
        else {
            continue;
        };
        let Some(list) = v.get("payload").and_then(|p| p.as_array()) else {
            continue;
        };
        for entry in list {
            let blocked = entry
                .get("BLOCKED")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true);
            let mut hit = false;
            let mut key = String::new();
            for zone in [
                "URL",
                "ARGS",
                "BODY",
                "COOKIE",
                "HEADER",
                "USER-AGENT",
                "REFERER",
                "BOUNDARY",
            ] {
                if let Some(s) = entry.get(zone).and_then(|x| x.as_str()) {
                    let s = s.replace("%RND%", "q7x");
                    hit |= any_detector(&s);
                    key.push_str(&s);
                }
            }
            if key.is_empty() {
                continue;
            }
            if blocked {
                att.add(key.as_bytes(), hit);
            } else {
                ben.add(key.as_bytes(), hit);
            }
        }
    }
    rows.push(Row {
        set: "nemesida".into(),
        label: "attack",
        what: "any detector",
        tally: att,
        reference: String::new(),
    });
    rows.push(Row {
        set: "nemesida FP".into(),
        label: "benign",
        what: "any detector",
        tally: ben,
        reference: String::new(),
    });
}

/// Minimal reader for gotestwaf test cases: the `payload:` list items.
fn gotestwaf(root: &Path, rows: &mut Vec<Row>, o: &mut Opts) {
    let mut files = Vec::new();
    files_under(&root.join("gotestwaf/testcases"), ".yml", &mut files);
    let mut att = Tally::default();
    let mut ben = Tally::default();
    let base = root.join("gotestwaf/testcases");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let rel = f
            .strip_prefix(&base)
            .unwrap_or(&f)
            .to_string_lossy()
            .into_owned();
        // The same reader as `inspect eval` (multi-line scalars included).
        let case = match corpus::Case::parse(&rel, &text) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("skipped {e}");
                continue;
            }
        };
        for p in &case.payloads {
            let hit = any_detector(p);
            if case.benign {
                if hit {
                    o.miss("gotestwaf-fp", p);
                }
                ben.add(p.as_bytes(), hit);
            } else {
                if !hit {
                    o.miss("gotestwaf", p);
                }
                att.add(p.as_bytes(), hit);
            }
        }
    }
    rows.push(Row {
        set: "gotestwaf payloads".into(),
        label: "attack",
        what: "any detector (as query value)",
        tally: att,
        reference: String::new(),
    });
    rows.push(Row {
        set: "gotestwaf false-pos".into(),
        label: "benign",
        what: "any detector (as query value)",
        tally: ben,
        reference: String::new(),
    });
}

fn csic(root: &Path, rows: &mut Vec<Row>, o: &mut Opts) {
    let Ok(raw) = std::fs::read(root.join("csic2010/normalTrafficTraining.txt")) else {
        return;
    };
    let mut t = Tally::default();
    let policy = InspectPolicy::default();
    for r in corpus::csic_requests(&String::from_utf8_lossy(&raw)) {
        let hv: Vec<(&str, &str)> = r
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let req = r.as_request(&hv);
        let body = String::from_utf8_lossy(&r.body);
        let reqline = format!("{} {}", r.method, r.target);
        let rep = inspect::inspect(&req, &policy);
        let flagged = rep.verdict != Verdict::Pass;
        let key = format!("{reqline}\n{body}");
        if flagged {
            let why: Vec<String> = rep
                .findings
                .iter()
                .map(|f| format!("{}:{}:{}={}", f.detector, f.reason, f.name, f.excerpt))
                .collect();
            o.miss("csic-blocked", &format!("{key} => {}", why.join(", ")));
        }
        t.add(key.as_bytes(), flagged);
    }
    rows.push(Row {
        set: "csic2010 normalTrafficTraining".into(),
        label: "benign",
        what: "full request, default policy",
        tally: t,
        reference: "target: >= 99.9% passed".into(),
    });
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(root) = args.get(1) else {
        eprintln!("usage: score_corpus CORPUS_DIR [--show-misses N] [--only SET]");
        return ExitCode::from(2);
    };
    let root = PathBuf::from(root);
    let mut o = Opts { show: 0, shown: 0 };
    let mut only = String::new();
    let mut i = 2;
    while i < args.len() {
        match args[i].as_str() {
            "--show-misses" => {
                o.show = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(50);
                i += 1;
            }
            "--only" => {
                only = args.get(i + 1).cloned().unwrap_or_default();
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let mut rows = Vec::new();
    let want = |s: &str| only.is_empty() || only == s;
    if want("libinjection") {
        libinjection(&root, &mut rows, &mut o);
    }
    let mut held_out = Vec::new();
    if want("lists") {
        payload_lists(&root, &mut held_out);
    }
    if want("nemesida") {
        nemesida(&root, &mut held_out);
    }
    if want("gotestwaf") {
        gotestwaf(&root, &mut rows, &mut o);
    }
    if want("csic") {
        csic(&root, &mut rows, &mut o);
    }
    print_rows(&rows);
    if !held_out.is_empty() {
        println!();
        println!("Validation sets: held out, NOT tuned on (their misses are never printed).");
        println!("Detection was developed on gotestwaf, libinjection and CSIC 2010 only;");
        println!("these sets measure how it does on payloads it was not shaped by.");
        println!();
        print_rows(&held_out);
    }
    ExitCode::SUCCESS
}
