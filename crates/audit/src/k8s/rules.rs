//! The rules of `audit k8s`. Ids `K8S-0xx` are workload and network checks,
//! `K8S-1xx` RBAC checks. Ids are stable: never renumber, only add.

use crate::finding::Rule;

rule!(PRIVILEGED, "K8S-001", Critical, A6SecurityMisconfiguration,
    "Privileged container",
    "A privileged container has every capability and access to the host's devices; a compromise of it is a compromise of the node.",
    "Remove `securityContext.privileged: true`; grant only the specific capability the program needs.");
rule!(PRIV_ESCALATION, "K8S-002", Medium, A6SecurityMisconfiguration,
    "Privilege escalation allowed",
    "Unless `allowPrivilegeEscalation` is false, a process can gain more privileges than its parent (setuid binaries, file capabilities).",
    "Set `securityContext.allowPrivilegeEscalation: false` on every container.");
rule!(RUN_AS_ROOT, "K8S-003", Medium, A6SecurityMisconfiguration,
    "Container may run as root",
    "Without `runAsNonRoot: true` the image's user decides, and many images run as root, which widens the damage of any escape.",
    "Set `securityContext.runAsNonRoot: true` (pod or container) and a non-zero `runAsUser`.");
rule!(
    UID_ZERO,
    "K8S-004",
    High,
    A6SecurityMisconfiguration,
    "Container runs as UID 0",
    "`runAsUser: 0` (or `runAsGroup: 0`) runs the process as root explicitly.",
    "Use a non-zero user id (e.g. 10001) and make the image work without root."
);
rule!(WRITABLE_ROOT_FS, "K8S-005", Low, A6SecurityMisconfiguration,
    "Writable root filesystem",
    "A writable root filesystem lets an attacker drop tools or change binaries inside the container.",
    "Set `securityContext.readOnlyRootFilesystem: true` and mount an `emptyDir` where the program must write.");
rule!(CAPS_NOT_DROPPED, "K8S-006", Medium, A6SecurityMisconfiguration,
    "Capabilities not dropped",
    "Containers start with a default set of Linux capabilities (NET_RAW among them) that most programs never use.",
    "Set `securityContext.capabilities.drop: [ALL]` and add back only what is needed (at most NET_BIND_SERVICE).");
rule!(DANGEROUS_CAPS, "K8S-007", High, A6SecurityMisconfiguration,
    "Dangerous capability added",
    "Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE or SYS_MODULE give near-root power over the node or other processes.",
    "Remove the capability from `capabilities.add`; find a design that does not need it.");
rule!(HOST_PATH, "K8S-008", High, A6SecurityMisconfiguration,
    "hostPath volume",
    "A hostPath volume exposes the node's filesystem to the pod; a writable one (or the container runtime socket) is a path to the node.",
    "Use a PersistentVolumeClaim, ConfigMap, Secret or emptyDir instead of hostPath.");
rule!(HOST_NETWORK, "K8S-009", High, A6SecurityMisconfiguration,
    "Host network namespace",
    "`hostNetwork: true` puts the pod on the node's network: it can bind node ports, reach node-local services and bypass NetworkPolicies.",
    "Remove `hostNetwork: true`; expose the pod through a Service.");
rule!(
    HOST_PID,
    "K8S-010",
    High,
    A6SecurityMisconfiguration,
    "Host PID namespace",
    "`hostPID: true` lets the pod see and signal every process of the node.",
    "Remove `hostPID: true`."
);
rule!(
    HOST_IPC,
    "K8S-011",
    High,
    A6SecurityMisconfiguration,
    "Host IPC namespace",
    "`hostIPC: true` shares the node's shared memory and semaphores with the pod.",
    "Remove `hostIPC: true`."
);
rule!(HOST_PORT, "K8S-012", Medium, A6SecurityMisconfiguration,
    "hostPort used",
    "A hostPort binds the container directly on the node's address, outside Service and NetworkPolicy control, and limits scheduling.",
    "Remove `hostPort`; use a Service (ClusterIP, or an Ingress in front).");
rule!(SECCOMP, "K8S-013", Medium, A6SecurityMisconfiguration,
    "No seccomp profile",
    "Without a seccomp profile (or with `Unconfined`) every system call is open to the container, including the rarely used ones most kernel exploits go through.",
    "Set `securityContext.seccompProfile.type: RuntimeDefault` at pod level (or `Localhost` with a profile).");
rule!(APPARMOR, "K8S-014", Medium, A6SecurityMisconfiguration,
    "AppArmor disabled",
    "An `unconfined` AppArmor profile removes the mandatory access control the runtime's default profile gives.",
    "Use `appArmorProfile.type: RuntimeDefault` (or the `runtime/default` annotation), or a Localhost profile.");
rule!(NO_REQUESTS, "K8S-015", Low, A6SecurityMisconfiguration,
    "No resource requests",
    "Without CPU and memory requests the scheduler cannot place the pod sensibly and it is the first to be evicted.",
    "Set `resources.requests.cpu` and `resources.requests.memory`.");
rule!(NO_LIMITS, "K8S-016", Medium, A6SecurityMisconfiguration,
    "No resource limits",
    "Without a memory limit (and a CPU limit) one container can starve the node: a denial of service for its neighbours.",
    "Set `resources.limits.memory` and `resources.limits.cpu`.");
rule!(IMAGE_LATEST, "K8S-017", Medium, A9VulnerableComponents,
    "Image tag `latest` or none",
    "A `latest` or missing tag changes under you: what runs is not what was reviewed, and rollbacks are guesses.",
    "Pin an explicit version tag, better a digest (`image@sha256:...`).");
rule!(IMAGE_NO_DIGEST, "K8S-018", Low, A9VulnerableComponents,
    "Image not pinned by digest",
    "A tag can be moved to another image; only a digest names exactly what was scanned and approved.",
    "Reference the image by digest: `registry/name:tag@sha256:...`.");
rule!(PULL_POLICY, "K8S-019", Low, A6SecurityMisconfiguration,
    "Image pull policy not Always",
    "With `IfNotPresent` or `Never`, a node reuses whatever image it cached under that tag, and registry authorisation is not rechecked.",
    "Set `imagePullPolicy: Always`, or pin the image by digest.");
rule!(SECRET_IN_ENV, "K8S-020", High, A3SensitiveDataExposure,
    "Secret in a plain environment value",
    "A password, token or key written as an env `value` sits in the manifest, the repository and `kubectl describe` output.",
    "Store it in a Secret and mount it as a file (or, at least, use `valueFrom.secretKeyRef`).");
rule!(SECRET_ENV_REF, "K8S-021", Low, A3SensitiveDataExposure,
    "Secret passed as environment variable",
    "Secrets in environment variables leak through crash dumps, `/proc/*/environ`, child processes and logs of the environment; files are read only when needed.",
    "Mount the Secret as a volume and read the file.");
rule!(SA_TOKEN_AUTOMOUNT, "K8S-022", Low, A5BrokenAccessControl,
    "Service account token mounted",
    "Unless `automountServiceAccountToken: false`, every pod carries an API token; an attacker in the pod can use it against the API server.",
    "Set `automountServiceAccountToken: false` in the pod spec (or the ServiceAccount) unless the pod calls the API.");
rule!(DEFAULT_SA, "K8S-023", Low, A5BrokenAccessControl,
    "Default service account",
    "Workloads sharing the namespace's `default` service account share whatever permissions anyone grants it.",
    "Create a dedicated ServiceAccount per workload and set `serviceAccountName`.");
rule!(
    NO_LIVENESS,
    "K8S-024",
    Low,
    A10InsufficientLogging,
    "No liveness probe",
    "Without a liveness probe a hung process keeps its place and nobody is told.",
    "Add a `livenessProbe` (HTTP, TCP or exec) to each long-running container."
);
rule!(NO_READINESS, "K8S-025", Low, A10InsufficientLogging,
    "No readiness probe",
    "Without a readiness probe traffic reaches a container before it can serve (or after it stopped being able to).",
    "Add a `readinessProbe` to each container that serves traffic.");
rule!(PSS_BASELINE, "K8S-026", High, A6SecurityMisconfiguration,
    "Fails Pod Security Standard `baseline`",
    "The workload would be refused by a namespace enforcing the `baseline` Pod Security Standard: it uses a known privilege escalation path.",
    "Fix the listed controls; then label the namespace `pod-security.kubernetes.io/enforce: baseline` (or `restricted`).");
rule!(
    PSS_RESTRICTED,
    "K8S-027",
    Low,
    A6SecurityMisconfiguration,
    "Meets `baseline` but not `restricted` Pod Security Standard",
    "The workload passes `baseline` but not the hardened `restricted` level.",
    "Fix the listed controls and enforce `restricted` on the namespace."
);
rule!(NO_NETWORK_POLICY, "K8S-030", Medium, A5BrokenAccessControl,
    "Namespace without NetworkPolicy",
    "With no NetworkPolicy selecting its pods, every pod in the cluster can reach every pod of the namespace.",
    "Add a default-deny NetworkPolicy to the namespace and allow the flows that are needed.");
rule!(NODE_PORT, "K8S-031", Low, A6SecurityMisconfiguration,
    "NodePort Service",
    "A NodePort opens the port on every node's address, bypassing the ingress and its TLS and authentication.",
    "Use a ClusterIP Service behind an Ingress (or the gateway).");
rule!(LOAD_BALANCER, "K8S-032", Medium, A6SecurityMisconfiguration,
    "LoadBalancer Service",
    "A LoadBalancer Service exposes the workload outside the cluster, often to the internet, without the ingress's controls.",
    "Use a ClusterIP Service behind the ingress, or restrict `loadBalancerSourceRanges`.");
rule!(INGRESS_NO_TLS, "K8S-033", Medium, A3SensitiveDataExposure,
    "Ingress without TLS",
    "An Ingress host not listed under `spec.tls` is served over plain HTTP: credentials, session cookies and personal data cross the network readable and changeable.",
    "Add a `spec.tls` entry (with a certificate Secret, e.g. from cert-manager) covering every host of the Ingress.");
rule!(SSH_PORT, "K8S-034", Low, A6SecurityMisconfiguration,
    "Container exposes SSH",
    "A container listening on port 22 runs an SSH daemon: a second way in, with its own credentials, that bypasses the cluster's access control and audit.",
    "Remove the SSH server from the image; use `kubectl exec` (governed by RBAC and audited) for debugging.");

rule!(RBAC_WILDCARD_VERB, "K8S-101", High, A5BrokenAccessControl,
    "Wildcard verb in RBAC rule",
    "`verbs: [\"*\"]` grants every current and future verb, including escalate, bind and impersonate.",
    "List the verbs needed (get, list, watch, ...).");
rule!(RBAC_WILDCARD_RESOURCE, "K8S-102", High, A5BrokenAccessControl,
    "Wildcard resource or API group in RBAC rule",
    "`resources: [\"*\"]` (or `apiGroups: [\"*\"]`) grants access to every resource type, including secrets and ones added later.",
    "List the resources (and API groups) needed.");
rule!(RBAC_CLUSTER_ADMIN, "K8S-103", Critical, A5BrokenAccessControl,
    "Binding to cluster-admin",
    "Binding `cluster-admin` gives the subject full control of the cluster.",
    "Bind a role with only the permissions the subject needs; keep cluster-admin for break-glass accounts.");
rule!(RBAC_SECRETS, "K8S-104", High, A3SensitiveDataExposure,
    "Read access to Secrets",
    "get, list or watch on secrets reads every credential in scope, including other service accounts' tokens.",
    "Grant `get` on named secrets (`resourceNames`) only, or mount the secret into the pod that needs it.");
rule!(RBAC_EXEC, "K8S-105", High, A5BrokenAccessControl,
    "pods/exec or pods/attach allowed",
    "Exec or attach into pods gives a shell with the pod's identity, secrets and network position.",
    "Remove `pods/exec` and `pods/attach`; give break-glass access through a separate, audited role.");
rule!(RBAC_ESCALATE, "K8S-106", Critical, A5BrokenAccessControl,
    "escalate, bind or impersonate allowed",
    "These verbs let a subject grant itself permissions it does not have, or act as another user or group.",
    "Remove `escalate`, `bind` and `impersonate` from the role.");
rule!(
    RBAC_NODE_PROXY,
    "K8S-107",
    High,
    A5BrokenAccessControl,
    "nodes/proxy allowed",
    "Access to nodes/proxy reaches the kubelet API, which can run commands in any pod on the node.",
    "Remove `nodes/proxy` from the role."
);
rule!(RBAC_CREATE_PODS, "K8S-109", High, A5BrokenAccessControl,
    "RBAC rule can create pods",
    "Whoever can create pods, or the workloads that make them (Deployments, Jobs, ...), can run any image with any service account and volume in the namespace: read its Secrets, act as its service accounts and, without Pod Security admission, take the node.",
    "Grant workload creation only to deploy pipelines; enforce Pod Security admission (`restricted`) on the namespace.");
rule!(RBAC_ANONYMOUS, "K8S-108", Critical, A5BrokenAccessControl,
    "Binding to anonymous or all users",
    "A binding to `system:anonymous` or `system:unauthenticated` grants the role to anyone who can reach the API server; `system:authenticated` grants it to every identity of the cluster, service accounts included.",
    "Bind the role to named users, groups or service accounts.");

pub static RULES: &[&Rule] = &[
    &PRIVILEGED,
    &PRIV_ESCALATION,
    &RUN_AS_ROOT,
    &UID_ZERO,
    &WRITABLE_ROOT_FS,
    &CAPS_NOT_DROPPED,
    &DANGEROUS_CAPS,
    &HOST_PATH,
    &HOST_NETWORK,
    &HOST_PID,
    &HOST_IPC,
    &HOST_PORT,
    &SECCOMP,
    &APPARMOR,
    &NO_REQUESTS,
    &NO_LIMITS,
    &IMAGE_LATEST,
    &IMAGE_NO_DIGEST,
    &PULL_POLICY,
    &SECRET_IN_ENV,
    &SECRET_ENV_REF,
    &SA_TOKEN_AUTOMOUNT,
    &DEFAULT_SA,
    &NO_LIVENESS,
    &NO_READINESS,
    &PSS_BASELINE,
    &PSS_RESTRICTED,
    &NO_NETWORK_POLICY,
    &NODE_PORT,
    &LOAD_BALANCER,
    &INGRESS_NO_TLS,
    &SSH_PORT,
    &RBAC_WILDCARD_VERB,
    &RBAC_WILDCARD_RESOURCE,
    &RBAC_CLUSTER_ADMIN,
    &RBAC_SECRETS,
    &RBAC_EXEC,
    &RBAC_ESCALATE,
    &RBAC_NODE_PROXY,
    &RBAC_ANONYMOUS,
    &RBAC_CREATE_PODS,
];
