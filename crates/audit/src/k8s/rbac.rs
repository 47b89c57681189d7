//! RBAC checks (Roles, ClusterRoles and their bindings) and `--rbac-who-can`: which
//! subjects the scanned manifests allow to do VERB on RESOURCE.

use serde::Serialize;

use super::rules::*;
use super::yaml::Node;
use super::Obj;
use crate::finding::{Finding, Severity};

fn grants(list: &[String], want: &str) -> bool {
    list.iter().any(|v| v == "*" || v == want)
}

/// Does a rule's resource list cover `resource` (which may be `pods/exec`)?
fn covers_resource(resources: &[String], resource: &str) -> bool {
    let (base, sub) = match resource.split_once('/') {
        Some((b, s)) => (b, Some(s)),
        None => (resource, None),
    };
    resources.iter().any(|r| {
        r == "*"
            || r == resource
            || match sub {
                Some(s) => r == &format!("{base}/*") || r == &format!("*/{s}"),
                None => false,
            }
    })
}

pub fn check_role(obj: &Obj<'_>, out: &mut Vec<Finding>) {
    for (i, rule) in obj
        .root
        .get("rules")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let where_ = format!("rules[{i}]");
        let verbs_node = rule.get("verbs");
        let verbs = verbs_node.map(Node::str_list).unwrap_or_default();
        let resources_node = rule.get("resources");
        let resources = resources_node.map(Node::str_list).unwrap_or_default();
        let groups_node = rule.get("apiGroups");
        let groups = groups_node.map(Node::str_list).unwrap_or_default();
        let named = rule
            .get("resourceNames")
            .is_some_and(|n| !n.as_seq().is_empty());
        let at = |n: Option<&Node>| obj.loc(n.unwrap_or(rule), Some(&where_));

        if verbs.iter().any(|v| v == "*") {
            out.push(Finding::new(
                &RBAC_WILDCARD_VERB,
                at(verbs_node),
                "the rule grants every verb (`*`)",
            ));
        }
        if resources.iter().any(|r| r == "*") {
            out.push(Finding::new(
                &RBAC_WILDCARD_RESOURCE,
                at(resources_node),
                "the rule covers every resource (`*`)",
            ));
        } else if groups.iter().any(|g| g == "*") {
            out.push(Finding::new(
                &RBAC_WILDCARD_RESOURCE,
                at(groups_node),
                "the rule covers every API group (`*`)",
            ));
        }
        if resources.iter().any(|r| r == "secrets")
            && ["get", "list", "watch"].iter().any(|v| grants(&verbs, v))
        {
            let f = Finding::new(
                &RBAC_SECRETS,
                at(resources_node),
                if named {
                    "the rule reads named Secrets"
                } else {
                    "the rule reads every Secret in its scope"
                },
            );
            out.push(if named {
                f.with_severity(Severity::Low)
            } else {
                f
            });
        }
        for sub in ["pods/exec", "pods/attach"] {
            if resources.iter().any(|r| r == sub || r == "pods/*")
                && (grants(&verbs, "create") || grants(&verbs, "get"))
            {
                out.push(Finding::new(
                    &RBAC_EXEC,
                    at(resources_node),
                    format!("the rule allows {sub}"),
                ));
            }
        }
        const POD_MAKERS: &[&str] = &[
            "pods",
            "deployments",
            "daemonsets",
            "statefulsets",
            "replicasets",
            "replicationcontrollers",
            "jobs",
            "cronjobs",
        ];
        if grants(&verbs, "create")
            && !resources.iter().any(|r| r == "*")
            && resources.iter().any(|r| POD_MAKERS.contains(&r.as_str()))
        {
            let which: Vec<&str> = resources
                .iter()
                .map(String::as_str)
                .filter(|r| POD_MAKERS.contains(r))
                .collect();
            out.push(Finding::new(
                &RBAC_CREATE_PODS,
                at(resources_node),
                format!("the rule can create {}", which.join(", ")),
            ));
        }
        for verb in ["escalate", "bind", "impersonate"] {
            if verbs.iter().any(|v| v == verb) {
                out.push(Finding::new(
                    &RBAC_ESCALATE,
                    at(verbs_node),
                    format!("the rule grants `{verb}`"),
                ));
            }
        }
        if resources
            .iter()
            .any(|r| r == "nodes/proxy" || r == "nodes/*")
        {
            out.push(Finding::new(
                &RBAC_NODE_PROXY,
                at(resources_node),
                "the rule reaches the kubelet through nodes/proxy",
            ));
        }
    }
}

pub fn check_binding(obj: &Obj<'_>, out: &mut Vec<Finding>) {
    let role_ref = obj.root.get("roleRef");
    let role = role_ref
        .and_then(|r| r.get("name"))
        .and_then(Node::as_str)
        .unwrap_or("");
    if role == "cluster-admin" {
        let node = role_ref.and_then(|r| r.get("name")).unwrap_or(obj.root);
        out.push(Finding::new(
            &RBAC_CLUSTER_ADMIN,
            obj.loc(node, None),
            format!("{} binds cluster-admin", obj.label()),
        ));
    }
    for s in obj
        .root
        .get("subjects")
        .map(Node::as_seq)
        .unwrap_or_default()
    {
        let name = s.get("name").and_then(Node::as_str).unwrap_or("");
        let sev = match name {
            "system:anonymous" | "system:unauthenticated" => Severity::Critical,
            "system:authenticated" => Severity::High,
            _ => continue,
        };
        out.push(
            Finding::new(
                &RBAC_ANONYMOUS,
                obj.loc(s.get("name").unwrap_or(s), None),
                format!("role `{role}` is bound to `{name}`"),
            )
            .with_severity(sev),
        );
    }
}

// === who can ===

/// A role as far as who-can needs it.
#[derive(Debug, Clone)]
pub struct RoleDef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// (verbs, resources) of each rule.
    pub rules: Vec<(Vec<String>, Vec<String>)>,
}

/// A binding as far as who-can needs it.
#[derive(Debug, Clone)]
pub struct BindingDef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: String,
    pub role_name: String,
    pub subjects: Vec<Subject>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Subject {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// One answer of `--rbac-who-can`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct WhoCan {
    pub subject: Subject,
    /// `cluster` or the namespace the permission holds in.
    pub scope: String,
    pub binding: String,
    pub role: String,
}

pub fn role_def(obj: &Obj<'_>) -> RoleDef {
    RoleDef {
        kind: obj.kind.clone(),
        namespace: (obj.kind == "Role").then(|| obj.namespace.clone()),
        name: obj.name.clone(),
        rules: obj
            .root
            .get("rules")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    r.get("verbs").map(Node::str_list).unwrap_or_default(),
                    r.get("resources").map(Node::str_list).unwrap_or_default(),
                )
            })
            .collect(),
    }
}

pub fn binding_def(obj: &Obj<'_>) -> BindingDef {
    let role_ref = obj.root.get("roleRef");
    let text = |n: Option<&Node>, k: &str| {
        n.and_then(|n| n.get(k))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned()
    };
    BindingDef {
        kind: obj.kind.clone(),
        namespace: (obj.kind == "RoleBinding").then(|| obj.namespace.clone()),
        name: obj.name.clone(),
        role_kind: text(role_ref, "kind"),
        role_name: text(role_ref, "name"),
        subjects: obj
            .root
            .get("subjects")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .map(|s| Subject {
                kind: text(Some(s), "kind"),
                name: text(Some(s), "name"),
                namespace: s.get("namespace").and_then(Node::as_str).map(str::to_owned),
            })
            .collect(),
    }
}

/// Subjects that may do `verb` on `resource`, through the bindings and roles given.
/// `cluster-admin` is known without its definition (it is built in).
pub fn who_can(
    roles: &[RoleDef],
    bindings: &[BindingDef],
    verb: &str,
    resource: &str,
) -> Vec<WhoCan> {
    let mut out = Vec::new();
    for b in bindings {
        let granted = if b.role_kind == "ClusterRole" && b.role_name == "cluster-admin" {
            true
        } else {
            roles
                .iter()
                .filter(|r| {
                    r.name == b.role_name
                        && r.kind == b.role_kind
                        && (r.kind == "ClusterRole" || r.namespace == b.namespace)
                })
                .any(|r| {
                    r.rules
                        .iter()
                        .any(|(verbs, res)| grants(verbs, verb) && covers_resource(res, resource))
                })
        };
        if !granted {
            continue;
        }
        for s in &b.subjects {
            out.push(WhoCan {
                subject: s.clone(),
                scope: b.namespace.clone().unwrap_or_else(|| "cluster".to_owned()),
                binding: format!(
                    "{} {}",
                    b.kind,
                    b.namespace
                        .as_ref()
                        .map_or_else(|| b.name.clone(), |ns| format!("{ns}/{}", b.name))
                ),
                role: format!("{} {}", b.role_kind, b.role_name),
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::covers_resource;

    #[test]
    fn subresources() {
        let r = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(covers_resource(&r(&["pods/exec"]), "pods/exec"));
        assert!(covers_resource(&r(&["pods/*"]), "pods/exec"));
        assert!(covers_resource(&r(&["*"]), "pods/exec"));
        assert!(!covers_resource(&r(&["pods"]), "pods/exec"));
        assert!(covers_resource(&r(&["secrets"]), "secrets"));
    }
}
