//! `centinela audit k8s`: Kubernetes manifests (files, directories, or `-` for stdin,
//! so `helm template` and `kustomize build` output can be piped in) checked for
//! workload hardening, Pod Security Standards, network exposure and RBAC.
//!
//! Reading, parsing and checking are separate steps: a file that cannot be read or
//! parsed becomes a scan error for that file and the others are still checked.

pub mod rbac;
pub mod rules;
pub mod workload;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::finding::{Finding, Location};
use crate::progress::Progress;
use crate::report::Report;
use crate::suppress;
use yaml::Node;

pub use rbac::WhoCan;

/// Largest manifest file read; Helm output of a large chart is a few MiB.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// One Kubernetes object of a scanned file.
#[derive(Debug)]
pub struct Obj<'a> {
    pub path: &'a str,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub root: &'a Node,
}

impl Obj<'_> {
    fn cluster_scoped(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "ClusterRole" | "ClusterRoleBinding" | "Namespace" | "Node" | "PersistentVolume"
        )
    }

    /// `Deployment prod/web` or `ClusterRole admin`.
    pub fn label(&self) -> String {
        if self.cluster_scoped() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }

    /// The location of `node` in this object, with an optional detail (container).
    pub fn loc(&self, node: &Node, detail: Option<&str>) -> Location {
        let object = match detail {
            Some(d) => format!("{}, {d}", self.label()),
            None => self.label(),
        };
        Location::file(self.path, node.line, node.column).with_object(object)
    }
}

/// A file to scan, already read.
#[derive(Debug)]
pub struct Input {
    /// As shown in findings: the path as given (or found under a directory), `-` for stdin.
    pub name: String,
    pub text: String,
}

/// Expands the paths of the command line: files as given, directories walked for
/// `*.yaml`, `*.yml` and `*.json`, `-` read from stdin. Unreadable, binary and
/// oversized files become scan errors.
pub fn collect(paths: &[PathBuf], report: &mut Report) -> Vec<Input> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut inputs = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            let mut buf = Vec::new();
            match std::io::stdin()
                .take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut buf)
            {
                Ok(_) => match decode("-", buf) {
                    Ok(text) => inputs.push(Input {
                        name: "-".into(),
                        text,
                    }),
                    Err(e) => report.error("-", e),
                },
                Err(e) => report.error("-", format!("cannot read stdin: {e}")),
            }
        } else if p.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .follow_links(false)
                .into_iter()
                .filter_map(|e| match e {
                    Ok(e) => Some(e),
                    Err(err) => {
                        report.error(
                            err.path().map_or_else(
                                || p.display().to_string(),
                                |q| q.display().to_string(),
                            ),
                            err.to_string(),
                        );
                        None
                    }
                })
                .filter(|e| e.file_type().is_file())
                .map(walkdir::DirEntry::into_path)
                .filter(|f| {
                    f.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                })
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    for f in files {
        let name = f.display().to_string();
        match read_file(&f) {
            Ok(text) => inputs.push(Input { name, text }),
            Err(e) => report.error(name, e),
        }
    }
    inputs
}

fn read_file(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "file is {} bytes, larger than the {MAX_FILE_BYTES}-byte limit",
            meta.len()
        ));
    }
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut buf))
        .map_err(|e| format!("cannot read: {e}"))?;
    decode(&path.display().to_string(), buf)
}

fn decode(_name: &str, buf: Vec<u8>) -> Result<String, String> {
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("input larger than the {MAX_FILE_BYTES}-byte limit"));
    }
    if buf.contains(&0) {
        return Err("binary file (NUL bytes), not a manifest".into());
    }
    String::from_utf8(buf).map_err(|e| format!("not UTF-8 text: {e}"))
}

/// Options of one `audit k8s` run.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `--rbac-who-can VERB RESOURCE`.
    pub who_can: Option<(String, String)>,
}

/// What a run found beyond the report.
#[derive(Debug, Default)]
pub struct Outcome {
    pub who_can: Option<Vec<WhoCan>>,
}

/// Scans inputs that were already read.
pub fn scan_inputs(
    inputs: &[Input],
    options: &Options,
    report: &mut Report,
    progress: &Progress,
) -> Outcome {
    let mut roles = Vec::new();
    let mut bindings = Vec::new();
    // namespace -> where the first workload in it is (for K8S-030).
    let mut workload_ns: BTreeMap<String, Location> = BTreeMap::new();
    let mut namespace_objs: BTreeMap<String, Location> = BTreeMap::new();
    let mut policy_ns: BTreeSet<String> = BTreeSet::new();

    // Parsing is most of the work and each file stands alone: done on every core.
    // The checks then run in order, since namespaces and RBAC span files.
    let parsed = crate::par::map(inputs, |input| yaml::parse(&input.text));
    for (input, docs) in inputs.iter().zip(parsed) {
        progress.set_message(input.name.clone());
        report.scanned += 1;
        report
            .inline_ignores
            .extend(suppress::scan_inline(&input.name, &input.text));
        let docs = match docs {
            Ok(d) => d,
            Err(e) => {
                report.error(
                    format!("{}:{}:{}", input.name, e.line, e.column),
                    format!("malformed YAML: {}", e.message),
                );
                progress.inc();
                continue;
            }
        };
        let mut objects: Vec<&Node> = Vec::new();
        for doc in &docs {
            match doc.get("kind").and_then(Node::as_str) {
                Some("List") => {
                    objects.extend(doc.get("items").map(Node::as_seq).unwrap_or_default())
                }
                Some(_) => objects.push(doc),
                None => {}
            }
        }
        for root in objects {
            let Some(kind) = root.get("kind").and_then(Node::as_str) else {
                continue;
            };
            let meta = root.get("metadata");
            let text = |k: &str| meta.and_then(|m| m.get(k)).and_then(Node::scalar_text);
            let obj = Obj {
                path: &input.name,
                kind: kind.to_owned(),
                name: text("name").unwrap_or_else(|| "?".into()),
                namespace: text("namespace").unwrap_or_else(|| "default".into()),
                root,
            };
            let mut found: Vec<Finding> = Vec::new();
            match kind {
                "Pod"
                | "Deployment"
                | "StatefulSet"
                | "DaemonSet"
                | "ReplicaSet"
                | "ReplicationController"
                | "Job"
                | "CronJob" => {
                    workload::check(&obj, &mut found);
                    workload_ns
                        .entry(obj.namespace.clone())
                        .or_insert_with(|| obj.loc(root.get("kind").unwrap_or(root), None));
                }
                "Service" => workload::check_service(&obj, &mut found),
                "Ingress" => workload::check_ingress(&obj, &mut found),
                "Role" | "ClusterRole" => {
                    rbac::check_role(&obj, &mut found);
                    roles.push(rbac::role_def(&obj));
                }
                "RoleBinding" | "ClusterRoleBinding" => {
                    rbac::check_binding(&obj, &mut found);
                    bindings.push(rbac::binding_def(&obj));
                }
                "NetworkPolicy" => {
                    policy_ns.insert(obj.namespace.clone());
                }
                "Namespace" => {
                    namespace_objs
                        .entry(obj.name.clone())
                        .or_insert_with(|| obj.loc(root.get("kind").unwrap_or(root), None));
                }
                _ => {}
            }
            report.findings.extend(found);
        }
        progress.inc();
    }

    // A namespace is judged when the scanned set declares it or runs workloads in it.
    let mut namespaces = namespace_objs;
    for (ns, loc) in workload_ns {
        namespaces.entry(ns).or_insert(loc);
    }
    for (ns, loc) in namespaces {
        if !policy_ns.contains(&ns) {
            report.push(Finding::new(
                &rules::NO_NETWORK_POLICY,
                loc,
                format!("no NetworkPolicy in the scanned manifests covers namespace `{ns}`"),
            ));
        }
    }

    Outcome {
        who_can: options
            .who_can
            .as_ref()
            .map(|(verb, resource)| rbac::who_can(&roles, &bindings, verb, resource)),
    }
}

/// `audit k8s PATH…`: reads, parses and checks; the caller applies suppressions and
/// renders.
pub fn scan(paths: &[PathBuf], options: &Options, show_progress: bool) -> (Report, Outcome) {
    let mut report = Report::new("k8s");
    let inputs = collect(paths, &mut report);
    let progress = Progress::new(inputs.len() as u64, show_progress && inputs.len() > 20);
    let outcome = scan_inputs(&inputs, options, &mut report, &progress);
    progress.finish();
    report.sort();
    (report, outcome)
}
