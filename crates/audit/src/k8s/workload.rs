//! Checks of pod specifications (Pods and every controller that templates them),
//! including the Pod Security Standards level of each workload, and of Services.

use super::rules::*;
use super::yaml::Node;
use super::Obj;
use crate::finding::{Finding, Severity};

/// Capabilities the `baseline` Pod Security Standard allows to add.
const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Capabilities that give power over the node or other processes.
const DANGEROUS_CAP_NAMES: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "SYS_TIME",
    "DAC_READ_SEARCH",
    "BPF",
    "PERFMON",
    "NET_RAW",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "SYSLOG",
];

/// Volume types the `restricted` standard allows.
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Sysctls the `baseline` standard considers safe.
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// Name fragments of environment variables that hold secrets.
const SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "private_key",
    "privatekey",
    "credential",
    "access_key",
];

/// The pod template of a workload object: (pod spec, pod metadata, long-running).
pub fn pod_template<'a>(obj: &Obj<'a>) -> Option<(&'a Node, Option<&'a Node>, bool)> {
    let root = obj.root;
    match obj.kind.as_str() {
        "Pod" => root.get("spec").map(|s| (s, root.get("metadata"), true)),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" => {
            let t = root.path(&["spec", "template"])?;
            t.get("spec").map(|s| (s, t.get("metadata"), true))
        }
        "Job" => {
            let t = root.path(&["spec", "template"])?;
            t.get("spec").map(|s| (s, t.get("metadata"), false))
        }
        "CronJob" => {
            let t = root.path(&["spec", "jobTemplate", "spec", "template"])?;
            t.get("spec").map(|s| (s, t.get("metadata"), false))
        }
        _ => None,
    }
}

fn norm_cap(c: &str) -> String {
    let up = c.trim().to_ascii_uppercase();
    up.strip_prefix("CAP_").map_or(up.clone(), str::to_owned)
}

/// The effective value of a security context field: the container's, else the pod's.
fn effective<'a>(container: &'a Node, pod: &'a Node, key: &str) -> Option<&'a Node> {
    container
        .path(&["securityContext", key])
        .or_else(|| pod.path(&["securityContext", key]))
}

struct Pss {
    baseline: Vec<String>,
    restricted: Vec<String>,
}

pub fn check(obj: &Obj<'_>, out: &mut Vec<Finding>) {
    let Some((spec, meta, long_running)) = pod_template(obj) else {
        return;
    };
    let kind_node = obj.root.get("kind").unwrap_or(obj.root);
    let mut pss = Pss {
        baseline: Vec::new(),
        restricted: Vec::new(),
    };

    // === pod level ===
    for (key, rule) in [
        ("hostNetwork", &HOST_NETWORK),
        ("hostPID", &HOST_PID),
        ("hostIPC", &HOST_IPC),
    ] {
        if let Some(n) = spec.get(key).filter(|n| n.as_bool() == Some(true)) {
            out.push(Finding::new(
                rule,
                obj.loc(n, None),
                format!("`{key}: true`"),
            ));
            pss.baseline.push(key.to_owned());
        }
    }
    for vol in spec.get("volumes").map(Node::as_seq).unwrap_or_default() {
        let name = vol.get("name").and_then(Node::as_str).unwrap_or("?");
        if let Some(hp) = vol.get("hostPath") {
            let path = hp.get("path").and_then(Node::as_str).unwrap_or("?");
            let sev = if path == "/"
                || path.contains("docker.sock")
                || path.contains("containerd.sock")
                || path.contains("crio.sock")
                || path.starts_with("/etc")
                || path.starts_with("/var/run")
                || path.starts_with("/run")
                || path.starts_with("/proc")
            {
                Severity::Critical
            } else {
                HOST_PATH.severity
            };
            out.push(
                Finding::new(
                    &HOST_PATH,
                    obj.loc(hp, None),
                    format!("volume `{name}` mounts host path `{path}`"),
                )
                .with_severity(sev),
            );
            pss.baseline.push(format!("hostPath volume `{name}`"));
        }
        let vtype = vol
            .entries()
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .find(|k| *k != "name");
        if let Some(t) = vtype {
            if !RESTRICTED_VOLUMES.contains(&t) && t != "hostPath" {
                pss.restricted.push(format!("volume type `{t}`"));
            }
        }
    }
    match spec
        .get("automountServiceAccountToken")
        .and_then(Node::as_bool)
    {
        Some(false) => {}
        _ => out.push(Finding::new(
            &SA_TOKEN_AUTOMOUNT,
            obj.loc(
                spec.key("automountServiceAccountToken").unwrap_or(spec),
                None,
            ),
            "the pod gets a service account token (automountServiceAccountToken is not false)",
        )),
    }
    let sa = spec
        .get("serviceAccountName")
        .or_else(|| spec.get("serviceAccount"));
    if sa.and_then(Node::as_str).is_none_or(|s| s == "default") {
        out.push(Finding::new(
            &DEFAULT_SA,
            obj.loc(sa.unwrap_or(spec), None),
            "the pod runs as the namespace's `default` service account",
        ));
    }
    for sysctl in spec
        .path(&["securityContext", "sysctls"])
        .map(Node::as_seq)
        .unwrap_or_default()
    {
        if let Some(name) = sysctl.get("name").and_then(Node::as_str) {
            if !SAFE_SYSCTLS.contains(&name) {
                pss.baseline.push(format!("unsafe sysctl `{name}`"));
            }
        }
    }
    let annotations = meta.and_then(|m| m.get("annotations"));

    // === containers ===
    for (list, is_main) in [
        ("containers", true),
        ("initContainers", false),
        ("ephemeralContainers", false),
    ] {
        for c in spec.get(list).map(Node::as_seq).unwrap_or_default() {
            check_container(
                obj,
                spec,
                c,
                annotations,
                is_main && long_running,
                &mut pss,
                out,
            );
        }
    }

    // === Pod Security Standards ===
    pss.baseline.dedup();
    pss.restricted.dedup();
    if !pss.baseline.is_empty() {
        out.push(Finding::new(
            &PSS_BASELINE,
            obj.loc(kind_node, None),
            format!(
                "level: privileged; baseline fails on {}",
                pss.baseline.join(", ")
            ),
        ));
    } else if !pss.restricted.is_empty() {
        out.push(Finding::new(
            &PSS_RESTRICTED,
            obj.loc(kind_node, None),
            format!(
                "level: baseline; restricted fails on {}",
                pss.restricted.join(", ")
            ),
        ));
    }
}

#[allow(clippy::too_many_lines)]
fn check_container(
    obj: &Obj<'_>,
    pod: &Node,
    c: &Node,
    annotations: Option<&Node>,
    probes: bool,
    pss: &mut Pss,
    out: &mut Vec<Finding>,
) {
    let name = c
        .get("name")
        .and_then(Node::as_str)
        .unwrap_or("?")
        .to_owned();
    let anchor = c.get("name").unwrap_or(c);
    let cname = format!("container {name}");
    let at = |n: &Node| obj.loc(n, Some(&cname));
    let sc = c.get("securityContext");

    if let Some(n) = sc
        .and_then(|s| s.get("privileged"))
        .filter(|n| n.as_bool() == Some(true))
    {
        out.push(Finding::new(
            &PRIVILEGED,
            at(n),
            format!("container `{name}` is privileged"),
        ));
        pss.baseline.push(format!("privileged container `{name}`"));
    }
    if effective(c, pod, "windowsOptions")
        .and_then(|w| w.get("hostProcess"))
        .and_then(Node::as_bool)
        == Some(true)
    {
        pss.baseline
            .push(format!("Windows hostProcess container `{name}`"));
    }
    let ape = sc.and_then(|s| s.get("allowPrivilegeEscalation"));
    if ape.and_then(Node::as_bool) != Some(false) {
        out.push(Finding::new(
            &PRIV_ESCALATION,
            at(ape.unwrap_or(anchor)),
            format!("container `{name}` does not set allowPrivilegeEscalation: false"),
        ));
        pss.restricted
            .push(format!("allowPrivilegeEscalation in `{name}`"));
    }
    let run_as_user = effective(c, pod, "runAsUser");
    let uid0 = run_as_user.and_then(Node::as_i64) == Some(0);
    if uid0 {
        if let Some(n) = run_as_user {
            out.push(Finding::new(
                &UID_ZERO,
                at(n),
                format!("container `{name}` runs as UID 0"),
            ));
        }
        pss.restricted.push(format!("runAsUser 0 in `{name}`"));
    }
    if let Some(n) = effective(c, pod, "runAsGroup").filter(|n| n.as_i64() == Some(0)) {
        out.push(Finding::new(
            &UID_ZERO,
            at(n),
            format!("container `{name}` runs with GID 0"),
        ));
    }
    let non_root = effective(c, pod, "runAsNonRoot");
    let uid_nonzero = run_as_user.and_then(Node::as_i64).is_some_and(|u| u > 0);
    if non_root.and_then(Node::as_bool) != Some(true) && !uid_nonzero && !uid0 {
        out.push(Finding::new(
            &RUN_AS_ROOT,
            at(non_root.unwrap_or(anchor)),
            format!("container `{name}` may run as root (runAsNonRoot is not true and no non-zero runAsUser)"),
        ));
        pss.restricted.push(format!("runAsNonRoot in `{name}`"));
    }
    let ro = sc.and_then(|s| s.get("readOnlyRootFilesystem"));
    if ro.and_then(Node::as_bool) != Some(true) {
        out.push(Finding::new(
            &WRITABLE_ROOT_FS,
            at(ro.unwrap_or(anchor)),
            format!("container `{name}` has a writable root filesystem"),
        ));
    }

    // Capabilities.
    let caps = sc.and_then(|s| s.get("capabilities"));
    let drop = caps.and_then(|c| c.get("drop"));
    let drops_all = drop.is_some_and(|d| d.str_list().iter().any(|c| norm_cap(c) == "ALL"));
    if !drops_all {
        out.push(Finding::new(
            &CAPS_NOT_DROPPED,
            at(drop.or(caps).unwrap_or(anchor)),
            format!("container `{name}` does not drop ALL capabilities"),
        ));
        pss.restricted
            .push(format!("capabilities.drop ALL in `{name}`"));
    }
    if let Some(add) = caps.and_then(|c| c.get("add")) {
        for (node, cap) in add
            .as_seq()
            .iter()
            .filter_map(|n| n.scalar_text().map(|s| (n, norm_cap(&s))))
        {
            if DANGEROUS_CAP_NAMES.contains(&cap.as_str()) {
                let sev = if cap == "ALL" || cap == "SYS_ADMIN" {
                    Severity::Critical
                } else {
                    DANGEROUS_CAPS.severity
                };
                out.push(
                    Finding::new(
                        &DANGEROUS_CAPS,
                        at(node),
                        format!("container `{name}` adds capability {cap}"),
                    )
                    .with_severity(sev),
                );
            }
            if !BASELINE_CAPS.contains(&cap.as_str()) {
                pss.baseline.push(format!("capability {cap} in `{name}`"));
            }
            if cap != "NET_BIND_SERVICE" {
                pss.restricted.push(format!("capability {cap} in `{name}`"));
            }
        }
    }

    // Host ports and SSH.
    for port in c.get("ports").map(Node::as_seq).unwrap_or_default() {
        if let Some(p) = port.get("containerPort").filter(|n| n.as_i64() == Some(22)) {
            out.push(Finding::new(
                &SSH_PORT,
                at(p),
                format!("container `{name}` listens on port 22 (SSH)"),
            ));
        }
        if let Some(hp) = port
            .get("hostPort")
            .filter(|n| n.as_i64().is_some_and(|p| p != 0))
        {
            out.push(Finding::new(
                &HOST_PORT,
                at(hp),
                format!(
                    "container `{name}` binds host port {}",
                    hp.scalar_text().unwrap_or_default()
                ),
            ));
            pss.baseline.push(format!("hostPort in `{name}`"));
        }
    }

    // seccomp: container profile, else pod profile, else the legacy annotations.
    let seccomp = effective(c, pod, "seccompProfile");
    let seccomp_type = seccomp
        .and_then(|s| s.get("type"))
        .and_then(Node::as_str)
        .map(str::to_owned)
        .or_else(|| {
            let ann = annotations?;
            ann.get(&format!(
                "container.seccomp.security.alpha.kubernetes.io/{name}"
            ))
            .or_else(|| ann.get("seccomp.security.alpha.kubernetes.io/pod"))
            .and_then(Node::as_str)
            .map(|v| match v {
                "unconfined" => "Unconfined".to_owned(),
                "runtime/default" | "docker/default" => "RuntimeDefault".to_owned(),
                _ => "Localhost".to_owned(),
            })
        });
    match seccomp_type.as_deref() {
        Some("RuntimeDefault" | "Localhost") => {}
        Some(t) => {
            out.push(
                Finding::new(
                    &SECCOMP,
                    at(seccomp.unwrap_or(anchor)),
                    format!("container `{name}` has seccomp profile `{t}`"),
                )
                .with_severity(Severity::High),
            );
            pss.baseline.push(format!("seccomp {t} in `{name}`"));
        }
        None => {
            out.push(Finding::new(
                &SECCOMP,
                at(anchor),
                format!("container `{name}` has no seccomp profile"),
            ));
            pss.restricted.push(format!("seccomp profile in `{name}`"));
        }
    }

    // AppArmor: the field (1.30+) or the annotation.
    let apparmor_unconfined = effective(c, pod, "appArmorProfile")
        .and_then(|p| p.get("type"))
        .and_then(Node::as_str)
        == Some("Unconfined")
        || annotations
            .and_then(|a| {
                a.get(&format!(
                    "container.apparmor.security.beta.kubernetes.io/{name}"
                ))
            })
            .and_then(Node::as_str)
            == Some("unconfined");
    if apparmor_unconfined {
        out.push(Finding::new(
            &APPARMOR,
            at(anchor),
            format!("container `{name}` runs AppArmor-unconfined"),
        ));
        pss.baseline
            .push(format!("AppArmor unconfined in `{name}`"));
    }

    // SELinux and procMount (baseline controls).
    if let Some(se) = effective(c, pod, "seLinuxOptions") {
        let t = se.get("type").and_then(Node::as_str);
        if t.is_some_and(|t| !matches!(t, "container_t" | "container_init_t" | "container_kvm_t"))
            || se.get("user").is_some()
            || se.get("role").is_some()
        {
            pss.baseline
                .push(format!("custom SELinux options in `{name}`"));
        }
    }
    if sc
        .and_then(|s| s.get("procMount"))
        .and_then(Node::as_str)
        .is_some_and(|p| p != "Default")
    {
        pss.baseline.push(format!("procMount in `{name}`"));
    }

    // Resources.
    let res = c.get("resources");
    let has = |kind: &str, what: &str| res.and_then(|r| r.path(&[kind, what])).is_some();
    if !(has("requests", "cpu") && has("requests", "memory")) {
        out.push(Finding::new(
            &NO_REQUESTS,
            at(res.unwrap_or(anchor)),
            format!("container `{name}` lacks CPU or memory requests"),
        ));
    }
    if !(has("limits", "cpu") && has("limits", "memory")) {
        let missing: Vec<&str> = ["cpu", "memory"]
            .into_iter()
            .filter(|w| !has("limits", w))
            .collect();
        out.push(Finding::new(
            &NO_LIMITS,
            at(res.unwrap_or(anchor)),
            format!("container `{name}` has no {} limit", missing.join(" or ")),
        ));
    }

    // Image.
    if let Some(img_node) = c.get("image") {
        let image = img_node.scalar_text().unwrap_or_default();
        let (tag, digest) = image_parts(&image);
        if !digest && tag.is_none_or(|t| t == "latest") {
            out.push(Finding::new(
                &IMAGE_LATEST,
                at(img_node),
                format!(
                    "image `{image}` uses {}",
                    if tag.is_some() {
                        "the `latest` tag"
                    } else {
                        "no tag (latest)"
                    }
                ),
            ));
        }
        if !digest {
            out.push(Finding::new(
                &IMAGE_NO_DIGEST,
                at(img_node),
                format!("image `{image}` is not pinned by digest"),
            ));
        }
        let policy = c.get("imagePullPolicy");
        let effective_policy =
            policy
                .and_then(Node::as_str)
                .unwrap_or(if tag.is_none_or(|t| t == "latest") {
                    "Always"
                } else {
                    "IfNotPresent"
                });
        if effective_policy != "Always" && !digest {
            out.push(Finding::new(
                &PULL_POLICY,
                at(policy.unwrap_or(img_node)),
                format!("container `{name}` pulls with policy {effective_policy}"),
            ));
        }
    }

    // Secrets in the environment.
    for env in c.get("env").map(Node::as_seq).unwrap_or_default() {
        let var = env.get("name").and_then(Node::as_str).unwrap_or("?");
        if let Some(v) = env.get("value") {
            let text = v.scalar_text().unwrap_or_default();
            let lower = var.to_ascii_lowercase();
            // `*_FILE` / `*_PATH` variables name where a secret is, not the secret.
            let names_a_place = ["_file", "_path", "_dir", "_url"]
                .iter()
                .any(|s| lower.ends_with(s))
                || text.starts_with('/');
            let secret_name = SECRET_NAMES.iter().any(|s| lower.contains(s)) && !names_a_place;
            let secret_value = text.starts_with("-----BEGIN")
                || text.starts_with("AKIA")
                || text.starts_with("ghp_")
                || text.starts_with("xoxb-")
                || text.starts_with("sk_live_");
            if !text.is_empty() && (secret_name || secret_value) {
                out.push(Finding::new(
                    &SECRET_IN_ENV,
                    at(v),
                    format!("env `{var}` of container `{name}` holds a literal secret value"),
                ));
            }
        }
        if let Some(r) = env.path(&["valueFrom", "secretKeyRef"]) {
            out.push(Finding::new(
                &SECRET_ENV_REF,
                at(r),
                format!("env `{var}` of container `{name}` comes from a Secret"),
            ));
        }
    }
    for from in c.get("envFrom").map(Node::as_seq).unwrap_or_default() {
        if let Some(r) = from.get("secretRef") {
            let secret = r.get("name").and_then(Node::as_str).unwrap_or("?");
            out.push(Finding::new(
                &SECRET_ENV_REF,
                at(r),
                format!("container `{name}` loads Secret `{secret}` into its environment"),
            ));
        }
    }

    // Probes, for long-running main containers only (a Job's pod ends by design).
    if probes {
        if c.get("livenessProbe").is_none() {
            out.push(Finding::new(
                &NO_LIVENESS,
                at(anchor),
                format!("container `{name}` has no liveness probe"),
            ));
        }
        if c.get("readinessProbe").is_none() {
            out.push(Finding::new(
                &NO_READINESS,
                at(anchor),
                format!("container `{name}` has no readiness probe"),
            ));
        }
    }
}

/// The tag (if any) and whether a digest is present, e.g. `reg:5000/app:1.2@sha256:..`.
fn image_parts(image: &str) -> (Option<&str>, bool) {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, !d.is_empty()),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    (last.split_once(':').map(|(_, t)| t), digest)
}

/// Services exposed outside the cluster.
/// An Ingress must serve every host it routes over TLS.
pub fn check_ingress(obj: &Obj<'_>, out: &mut Vec<Finding>) {
    let Some(spec) = obj.root.get("spec") else {
        return;
    };
    let tls_hosts: Vec<String> = spec
        .get("tls")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .flat_map(|t| t.get("hosts").map(Node::str_list).unwrap_or_default())
        .collect();
    let has_tls = spec.get("tls").is_some_and(|t| !t.as_seq().is_empty());
    let rules = spec.get("rules").map(Node::as_seq).unwrap_or_default();
    if rules.is_empty() && !has_tls {
        out.push(Finding::new(
            &INGRESS_NO_TLS,
            obj.loc(spec, None),
            "the Ingress has no `spec.tls`",
        ));
    }
    for rule in rules {
        let host = rule.get("host").and_then(Node::as_str);
        let covered = match host {
            Some(h) => tls_hosts.iter().any(|t| t == h || wildcard_covers(t, h)),
            // A rule for every host is covered only by a TLS entry without hosts.
            None => has_tls && tls_hosts.is_empty(),
        };
        if !covered {
            out.push(Finding::new(
                &INGRESS_NO_TLS,
                obj.loc(rule.get("host").unwrap_or(rule), None),
                match host {
                    Some(h) => format!("host `{h}` is not covered by `spec.tls`"),
                    None => "a rule for any host is not covered by `spec.tls`".to_owned(),
                },
            ));
        }
    }
}

/// `*.example.com` covers `shop.example.com` (one label), not `example.com`.
fn wildcard_covers(pattern: &str, host: &str) -> bool {
    pattern.strip_prefix("*.").is_some_and(|suffix| {
        host.strip_suffix(suffix)
            .and_then(|l| l.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.'))
    })
}

pub fn check_service(obj: &Obj<'_>, out: &mut Vec<Finding>) {
    let Some(t) = obj.root.path(&["spec", "type"]) else {
        return;
    };
    match t.as_str() {
        Some("NodePort") => out.push(Finding::new(
            &NODE_PORT,
            obj.loc(t, None),
            "the Service opens a port on every node",
        )),
        Some("LoadBalancer") => {
            let restricted = obj
                .root
                .path(&["spec", "loadBalancerSourceRanges"])
                .is_some_and(|r| !r.as_seq().is_empty());
            let f = Finding::new(
                &LOAD_BALANCER,
                obj.loc(t, None),
                if restricted {
                    "the Service is exposed through a load balancer (source ranges restricted)"
                } else {
                    "the Service is exposed through a load balancer to any source"
                },
            );
            out.push(if restricted {
                f.with_severity(Severity::Low)
            } else {
                f
            });
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::image_parts;

    #[test]
    fn image_references() {
        assert_eq!(image_parts("nginx"), (None, false));
        assert_eq!(image_parts("nginx:latest"), (Some("latest"), false));
        assert_eq!(image_parts("reg:5000/app"), (None, false));
        assert_eq!(image_parts("reg:5000/app:1.2"), (Some("1.2"), false));
        assert_eq!(image_parts("app:1.2@sha256:abc"), (Some("1.2"), true));
        assert_eq!(image_parts("app@sha256:abc"), (None, true));
    }
}
