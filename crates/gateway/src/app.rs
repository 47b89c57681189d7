//! The gateway's top-level handler, in request order: the gateway's own endpoints
//! under `/_centinela/`; then the path put in canonical form, the caller identified
//! (session cookie or API token), the access policy evaluated (fetching record owners
//! from the application's database or reading the JSON body when a rule needs them),
//! and only then the request forwarded, with the canonical path and the caller's
//! identity in `X-Centinela-*` headers.
//!
//! Everything not explicitly allowed is refused: no route, no rule, an ambiguous path,
//! an owner lookup that fails.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use centinela_core::headers::HeaderPolicy;
use centinela_core::inspect;
use centinela_core::policy::{self, Cidr, Decision, Facts, NormalPath, Policy, Resolved, Subject};
use centinela_core::ratelimit::{Rate, RateLimits};
use centinela_store::lookup::AppLookups;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;

use crate::assertion::Signer;
use crate::audit_sink::AuditSink;
use crate::auth::http::{is_own_path, json_error, AuthHttp, CSRF_COOKIE, SESSION_COOKIE};
use crate::auth::service::{AuthError, AuthMethod, Identity};
use crate::handler::{boxed, full, Body, BoxFuture, Handler};
use crate::hardening::ResponseHardening;
use crate::limiter::Limiter;
use crate::metrics::{Metrics, RouteLabel};
use crate::proxy::ProxyHandler;
use centinela_core::auditlog::{Event, Kind};

/// Header carrying the user name to the upstream.
pub const USER_HEADER: HeaderName = HeaderName::from_static("x-centinela-user");
/// Header carrying the roles in force (comma-separated).
pub const ROLES_HEADER: HeaderName = HeaderName::from_static("x-centinela-roles");
/// Header carrying the user's customer id, when the account has one.
pub const CUSTOMER_HEADER: HeaderName = HeaderName::from_static("x-centinela-customer-id");
/// Header saying how the caller authenticated: `session` or `token`.
pub const AUTH_METHOD_HEADER: HeaderName = HeaderName::from_static("x-centinela-auth");
/// Header naming the route that allowed the request.
pub const ROUTE_HEADER: HeaderName = HeaderName::from_static("x-centinela-route");

/// Largest JSON body read when an ownership rule needs a field of it.
const MAX_POLICY_BODY: usize = 1024 * 1024;
/// Lookups one request may trigger (one per rule that needs one, in practice).
const MAX_LOOKUPS_PER_REQUEST: usize = 4;

/// Identity endpoints, the access policy and the proxies to each upstream.
#[derive(Clone, Debug)]
pub struct Gateway {
    inner: Arc<Inner>,
}

/// What a [`Gateway`] is made of.
#[derive(Debug)]
pub struct GatewayParts {
    /// The identity endpoints and request identification.
    pub auth: AuthHttp,
    /// The access policy.
    pub policy: Policy,
    /// One proxy per upstream name.
    pub proxies: HashMap<String, ProxyHandler>,
    /// Owner lookups for ownership rules.
    pub lookups: AppLookups,
    /// Response hardening.
    pub headers: HeaderPolicy,
    /// Global rate limits.
    pub rate_limits: RateLimits,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<Cidr>,
    /// The gateway's public URL (forward-auth answers link to its login page).
    pub public_url: String,
    /// Signs identity assertions to upstreams.
    pub signer: Signer,
    /// Where security events go.
    pub audit: Option<AuditSink>,
    /// Request metrics.
    pub metrics: Option<Arc<Metrics>>,
    /// Addresses refused by automatic responses.
    pub blocklist: Option<Arc<crate::alerting::Blocklist>>,
    /// Longest time to receive a body the gateway must read before forwarding.
    pub body_read_timeout: std::time::Duration,
    /// The admin console; `None` answers its paths with 404.
    pub console: Option<crate::console::Console>,
}

#[derive(Debug)]
struct Inner {
    auth: AuthHttp,
    policy: Policy,
    proxies: HashMap<String, ProxyHandler>,
    lookups: AppLookups,
    headers: ResponseHardening,
    route_labels: RouteLabels,
    rate_limits: RateLimits,
    limiter: Limiter,
    trusted_proxies: Vec<Cidr>,
    public_url: String,
    signer: Signer,
    audit: Option<AuditSink>,
    metrics: Option<Arc<Metrics>>,
    blocklist: Option<Arc<crate::alerting::Blocklist>>,
    body_read_timeout: std::time::Duration,
    console: Option<crate::console::Console>,
}

/// The `route` label of each request's metrics: one per route (by index), one for
/// the gateway's own endpoints and one for requests no route took.
#[derive(Debug)]
struct RouteLabels {
    routes: Vec<RouteLabel>,
    own: RouteLabel,
    unknown: RouteLabel,
}

/// Why a request body could not be read.
enum BodyRead {
    TooLarge,
    TooSlow,
}

impl BodyRead {
    fn response(&self, too_large: &'static str) -> Response<Body> {
        match self {
            Self::TooLarge => problem(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", too_large),
            Self::TooSlow => problem(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body did not arrive in time; send it again",
            ),
        }
    }
}

/// Reads a body of at most `limit` bytes within `deadline`: a client that trickles
/// its body (slowloris on the body) holds the request no longer than that.
async fn read_bounded(
    b: Incoming,
    limit: usize,
    deadline: std::time::Duration,
) -> Result<Bytes, BodyRead> {
    match tokio::time::timeout(deadline, Limited::new(b, limit).collect()).await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(_)) => Err(BodyRead::TooLarge),
        Err(_) => Err(BodyRead::TooSlow),
    }
}

impl Gateway {
    /// A gateway serving the identity endpoints and sending what the policy allows to
    /// the proxy named by each route's upstream.
    pub fn new(parts: GatewayParts) -> Self {
        let headers = ResponseHardening::new(
            &parts.headers,
            parts.policy.routes.iter().map(|r| r.csp.as_deref()),
        );
        let route_labels = RouteLabels {
            routes: parts
                .policy
                .routes
                .iter()
                .map(|r| RouteLabel::new(&r.name))
                .collect(),
            own: RouteLabel::new("_centinela"),
            unknown: RouteLabel::new("-"),
        };
        Self {
            inner: Arc::new(Inner {
                auth: parts.auth,
                policy: parts.policy,
                proxies: parts.proxies,
                lookups: parts.lookups,
                headers,
                route_labels,
                rate_limits: parts.rate_limits,
                limiter: Limiter::default(),
                trusted_proxies: parts.trusted_proxies,
                public_url: parts.public_url,
                signer: parts.signer,
                audit: parts.audit,
                metrics: parts.metrics,
                blocklist: parts.blocklist,
                body_read_timeout: parts.body_read_timeout,
                console: parts.console,
            }),
        }
    }

    fn emit(&self, e: Event) {
        if let Some(a) = &self.inner.audit {
            a.record(e);
        }
    }

    /// `Some(429 answer)` when the caller `key` names is over `rate`. The key is only
    /// built when a limit is configured: most routes have none.
    fn over_limit(
        &self,
        key: impl FnOnce() -> String,
        rate: Option<Rate>,
        what: &str,
        client: IpAddr,
        actor: Option<&str>,
    ) -> Option<Response<Body>> {
        let rate = rate?;
        let wait = self.inner.limiter.check(&key(), rate).err()?;
        let mut e = Event::new(Kind::RateLimited, "failure", now_ms())
            .client(client)
            .detail("limit", what)
            .detail("rate", rate.to_string());
        if let Some(a) = actor {
            e = e.actor(a);
        }
        self.emit(e);
        let mut r = problem(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests; slow down and retry later",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        Some(r)
    }

    async fn serve(self, mut req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let started = std::time::Instant::now();
        host_from_authority(&mut req);
        let own = is_own_path(req.uri().path());
        let resp = self.serve_inner(req, peer).await;
        if let Some(m) = &self.inner.metrics {
            let labels = &self.inner.route_labels;
            let route = match resp.extensions().get::<ForwardedBy>() {
                Some(f) => labels.routes.get(f.0).unwrap_or(&labels.unknown),
                None if own => &labels.own,
                None => &labels.unknown,
            };
            m.request(route, resp.status().as_u16(), started.elapsed());
        }
        resp
    }

    async fn serve_inner(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let client_ip = policy::net::client_address(
            peer.ip(),
            req.headers()
                .get_all(X_FORWARDED_FOR)
                .iter()
                .filter_map(|v| v.to_str().ok()),
            &self.inner.trusted_proxies,
        );
        let blocked = self
            .inner
            .blocklist
            .as_ref()
            .is_some_and(|b| b.is_blocked(client_ip, now_ms()));
        let mut resp = if blocked {
            problem(
                StatusCode::FORBIDDEN,
                "blocked_address",
                "requests from this address are refused for a while after repeated attacks",
            )
        } else if let Some(r) = self.over_limit(
            || format!("ip:{client_ip}"),
            self.inner.rate_limits.per_ip,
            "per address",
            client_ip,
            None,
        ) {
            r
        } else if req.uri().path() == FORWARD_AUTH_PATH {
            self.forward_auth(&req, client_ip).await
        } else if req.uri().path() == JWKS_PATH {
            let mut r = Response::new(full(self.inner.signer.jwks().to_string()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            );
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            r
        } else if crate::console::is_console_path(req.uri().path()) {
            match &self.inner.console {
                Some(c) => c.handle(req, client_ip).await.map(boxed),
                None => problem(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "the admin console is not enabled on this gateway",
                ),
            }
        } else if is_own_path(req.uri().path()) {
            self.inner.auth.handle(req, client_ip).await.map(boxed)
        } else {
            self.policy_and_proxy(req, peer, client_ip).await
        };
        let route = resp.extensions().get::<ForwardedBy>().map(|f| f.0);
        self.inner.headers.apply(resp.headers_mut(), route);
        resp
    }

    /// Evaluates the policy, fetching record owners as rules ask for them. Returns
    /// `NeedBody` for the caller to handle; `Err` is the answer when a lookup fails
    /// (fail closed).
    async fn decide(
        &self,
        facts: &Facts<'_>,
        resolved: &mut Resolved,
    ) -> Result<Decision, Response<Body>> {
        loop {
            match self.inner.policy.evaluate(facts, resolved) {
                Decision::NeedLookup { lookup, key } => {
                    if resolved.len() >= MAX_LOOKUPS_PER_REQUEST {
                        return Ok(deny_internal("too many owner lookups for one request"));
                    }
                    match self.inner.lookups.owner(&lookup, &key).await {
                        Ok(owner) => {
                            resolved.insert((lookup, key), owner);
                        }
                        Err(e) => {
                            tracing::warn!(lookup = %lookup, error = %e, "Owner lookup failed; denying");
                            return Err(problem(
                                StatusCode::SERVICE_UNAVAILABLE,
                                "unavailable",
                                "the owner of this record could not be checked; try again shortly",
                            ));
                        }
                    }
                }
                other => return Ok(other),
            }
        }
    }

    async fn policy_and_proxy(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        client_ip: IpAddr,
    ) -> Response<Body> {
        let inner = &self.inner;
        let path = match policy::normalize(req.uri().path(), inner.policy.case) {
            Ok(p) => p,
            Err(e) => {
                tracing::info!(path = %req.uri().path().chars().take(200).collect::<String>(), reason = %e, "Refused an ambiguous path");
                return problem(StatusCode::BAD_REQUEST, "bad_path", &e.to_string());
            }
        };
        let identity = match inner.auth.identify(req.headers()).await {
            Ok(i) => i,
            Err(e) => {
                if matches!(e, AuthError::Unavailable) {
                    tracing::warn!("Identity store unavailable; answering 503");
                }
                return json_error(&e).map(boxed);
            }
        };
        if let Some(i) = &identity {
            if let Some(r) = self.over_limit(
                || format!("user:{}", i.user_id),
                inner.rate_limits.per_user,
                "per user",
                client_ip,
                Some(&i.username),
            ) {
                return r;
            }
        }
        let subject = identity.as_ref().map(subject_of);
        let (mut parts, body) = req.into_parts();
        let host = request_host(&parts);
        let method = parts.method.as_str().to_ascii_uppercase();
        let query = parts.uri.query().map(str::to_owned);

        let mut resolved = Resolved::new();
        let mut buffered: Option<Bytes> = None;
        let mut body = Some(body);
        let mut decision = {
            let facts = Facts {
                method: &method,
                host: host.as_deref(),
                path: &path,
                query: query.as_deref(),
                client_ip,
                subject: subject.as_ref(),
                json_body: None,
            };
            match self.decide(&facts, &mut resolved).await {
                Ok(d) => d,
                Err(r) => return r,
            }
        };
        if decision == Decision::NeedBody {
            let Some(b) = body.take() else {
                return problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                );
            };
            let bytes = match read_bounded(b, MAX_POLICY_BODY, inner.body_read_timeout).await {
                Ok(bytes) => bytes,
                Err(e) => return e.response("this request's body must be JSON of at most 1 MiB"),
            };
            let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "bad_json",
                    "this request's body must be valid JSON",
                );
            };
            let facts = Facts {
                method: &method,
                host: host.as_deref(),
                path: &path,
                query: query.as_deref(),
                client_ip,
                subject: subject.as_ref(),
                json_body: Some(&json),
            };
            decision = match self.decide(&facts, &mut resolved).await {
                Ok(Decision::NeedBody) => deny_internal("policy asked for the body twice"),
                Ok(d) => d,
                Err(r) => return r,
            };
            buffered = Some(bytes);
        }

        match decision {
            Decision::Allow { route: index, .. } => {
                let Some(route) = inner.policy.routes.get(index) else {
                    return problem(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "internal error",
                    );
                };
                if let Some(r) = self.over_limit(
                    || match &identity {
                        Some(i) => format!("route:{index}:{}", i.user_id),
                        None => format!("route:{index}:{client_ip}"),
                    },
                    route.rate_limit,
                    "per route",
                    client_ip,
                    identity.as_ref().map(|i| i.username.as_str()),
                ) {
                    return r;
                }
                let Some(proxy) = inner.proxies.get(&route.upstream) else {
                    tracing::error!(route = %route.name, upstream = %route.upstream, "Route names an upstream without a proxy");
                    return problem(StatusCode::BAD_GATEWAY, "bad_gateway", "bad gateway");
                };
                // Inspection needs the whole body; read it (bounded) unless the policy
                // already did.
                if buffered.is_none() {
                    if let Some(b) = body.take() {
                        if hyper::body::Body::is_end_stream(&b) {
                            body = Some(b);
                        } else {
                            let limit = route.inspect.limits.max_body_bytes;
                            match read_bounded(b, limit, inner.body_read_timeout).await {
                                Ok(bytes) => buffered = Some(bytes),
                                Err(e) => {
                                    return e.response(
                                        "the request body is larger than this route accepts",
                                    )
                                }
                            }
                        }
                    }
                }
                // Before inspection: the gateway's own cookies and token never reach the
                // upstream, and a hostile value in them only ever meets the session
                // lookup's hash, so inspecting them (about 5k instructions per signed-in
                // request) would guard nothing.
                strip_own_credentials(
                    &mut parts.headers,
                    identity
                        .as_ref()
                        .is_some_and(|i| matches!(i.via, AuthMethod::Token(_))),
                );
                if let Some(refusal) = inspect_request(
                    &parts,
                    buffered.as_ref(),
                    route,
                    identity.as_ref(),
                    client_ip,
                    inner.audit.as_ref(),
                )
                .await
                {
                    return refusal;
                }
                let mut extra = identity
                    .as_ref()
                    .and_then(identity_headers)
                    .unwrap_or_default();
                if let Ok(v) = HeaderValue::from_str(&route.name) {
                    extra.insert(ROUTE_HEADER, v);
                }
                if let Some(who) = &identity {
                    let jwt = inner
                        .signer
                        .assertion(who, &route.upstream, &route.name, unix_now());
                    if let Some(v) = jwt {
                        extra.insert(ASSERTION_HEADER, v);
                    }
                }
                if let Some(chain) = forwarded_chain(&parts.headers, peer.ip(), client_ip) {
                    extra.insert(X_FORWARDED_FOR, chain);
                }
                let trusted_peer = inner.trusted_proxies.iter().any(|c| c.contains(peer.ip()));
                for (name, value) in forwarded_origin(&parts.headers, trusted_peer) {
                    extra.insert(name, value);
                }
                let parts = with_canonical_path(parts, &path);
                let mut resp = match (buffered, body) {
                    (Some(bytes), _) => {
                        proxy
                            .forward(Request::from_parts(parts, Full::new(bytes)), peer, extra)
                            .await
                    }
                    (None, Some(body)) => {
                        proxy
                            .forward(Request::from_parts(parts, body), peer, extra)
                            .await
                    }
                    (None, None) => problem(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "internal error",
                    ),
                };
                resp.extensions_mut().insert(ForwardedBy(index));
                resp
            }
            Decision::Deny {
                route,
                reason,
                sign_in_may_help,
            } => {
                let route_name = route
                    .and_then(|i| inner.policy.routes.get(i))
                    .map_or("-", |r| r.name.as_str());
                tracing::info!(
                    route = route_name,
                    method = %method,
                    path = %path,
                    user = identity.as_ref().map_or("-", |i| i.username.as_str()),
                    client = %client_ip,
                    reason = %reason,
                    "Access denied"
                );
                let mut e = Event::new(Kind::PolicyDenied, "failure", now_ms())
                    .client(client_ip)
                    .target(format!("{method} {path}"))
                    .detail("route", route_name)
                    .detail("reason", reason.as_str());
                if let Some(i) = &identity {
                    e = e.actor(&i.username);
                }
                self.emit(e);
                if sign_in_may_help {
                    unauthenticated(&parts)
                } else {
                    problem(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        "you are not allowed to do this",
                    )
                }
            }
            Decision::NeedLookup { .. } | Decision::NeedBody => problem(
                StatusCode::FORBIDDEN,
                "forbidden",
                "you are not allowed to do this",
            ),
        }
    }
}

impl Handler for Gateway {
    fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> BoxFuture<Response<Body>> {
        Box::pin(self.clone().serve(req, peer))
    }
}

/// Makes `Host` name the request's authority when the request line carries one.
///
/// HTTP/2 clients send `:authority` and usually no `Host` (hyper puts the authority
/// in the URI), and an HTTP/1.1 request in absolute form must be judged by its URI's
/// authority, not its `Host` (RFC 9112, 3.2.2). Every later step (origin checks,
/// route hosts, forwarded headers) then reads one place.
fn host_from_authority<B>(req: &mut Request<B>) {
    let value = req
        .uri()
        .authority()
        .and_then(|a| HeaderValue::from_str(a.as_str()).ok());
    if let Some(v) = value {
        req.headers_mut().insert(header::HOST, v);
    }
}

/// Where the assertion-signing public key is published (JWKS).
pub const JWKS_PATH: &str = "/_centinela/jwks.json";
/// Header carrying the signed identity assertion (JWT) to the upstream.
pub const ASSERTION_HEADER: HeaderName = HeaderName::from_static("x-centinela-assertion");

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The forward-auth endpoint (nginx `auth_request`, ingress-nginx `auth-url`,
/// Traefik `forwardAuth`).
pub const FORWARD_AUTH_PATH: &str = "/_centinela/auth";

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The `X-Forwarded-For` to send upstream when the peer is a trusted proxy: the chain
/// it sent plus the peer itself. `None` otherwise (the proxy then sets the peer).
fn forwarded_chain(h: &HeaderMap, peer: IpAddr, client: IpAddr) -> Option<HeaderValue> {
    if client == peer {
        return None;
    }
    let sent: Vec<&str> = h
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    HeaderValue::from_str(&format!("{}, {peer}", sent.join(", "))).ok()
}

const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The scheme and host the client used, as a trusted proxy in front reports them
/// (`X-Forwarded-Proto`, `X-Forwarded-Host`). From anyone else they are the gateway's
/// own (the proxy sets them), so a client cannot make the upstream build links to a
/// host of its choosing. Only well-formed values are passed on.
fn forwarded_origin(h: &HeaderMap, trusted_peer: bool) -> Vec<(HeaderName, HeaderValue)> {
    if !trusted_peer {
        return Vec::new();
    }
    let first = |name: &HeaderName| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let mut out = Vec::new();
    if let Some(p) = first(&X_FORWARDED_PROTO).filter(|p| matches!(*p, "http" | "https")) {
        out.push((
            X_FORWARDED_PROTO,
            HeaderValue::from_static(if p == "http" { "http" } else { "https" }),
        ));
    }
    let host_ok = |v: &str| {
        v.len() <= 255
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    };
    if let Some(v) = first(&X_FORWARDED_HOST)
        .filter(|v| host_ok(v))
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        out.push((X_FORWARDED_HOST, v));
    }
    out
}

/// The first value of the first header present among `names`.
fn first_header<'a>(h: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| h.get(*n).and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// What a forward-auth call asks about: method, host, path and query of the
/// original request, from the headers each ingress uses.
fn forward_auth_target(h: &HeaderMap) -> (String, Option<String>, String, Option<String>) {
    let method = first_header(h, &["x-original-method", "x-forwarded-method"])
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let (mut host, target) = match first_header(h, &["x-original-uri", "x-forwarded-uri"]) {
        Some(uri) => (None, uri.to_owned()),
        None => match first_header(h, &["x-original-url"]).and_then(|u| u.parse::<Uri>().ok()) {
            Some(uri) => (
                uri.host().map(str::to_ascii_lowercase),
                uri.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
            ),
            None => (None, "/".to_owned()),
        },
    };
    if let Some(h) = first_header(h, &["x-forwarded-host"]) {
        host = Some(h.split(':').next().unwrap_or(h).to_ascii_lowercase());
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target, None),
    };
    (method, host, path, query)
}

impl Gateway {
    /// Answers a forward-auth call: 200 with the identity headers when the policy
    /// allows the original request, 401 with the login URL when signing in may help,
    /// 403 otherwise. The ingress passes the original request's cookies and
    /// `Authorization`, and says what was asked in `X-Original-*`/`X-Forwarded-*`.
    async fn forward_auth<B>(&self, req: &Request<B>, client_ip: IpAddr) -> Response<Body> {
        let h = req.headers();
        let (method, host, raw_path, query) = forward_auth_target(h);
        let deny = |status: StatusCode| {
            let mut r = Response::new(full(""));
            *r.status_mut() = status;
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        };
        let Ok(path) = policy::normalize(&raw_path, self.inner.policy.case) else {
            return deny(StatusCode::FORBIDDEN);
        };
        let identity = match self.inner.auth.identify(h).await {
            Ok(i) => i,
            Err(e) => return json_error(&e).map(boxed),
        };
        let subject = identity.as_ref().map(subject_of);
        let facts = Facts {
            method: &method,
            host: host.as_deref(),
            path: &path,
            query: query.as_deref(),
            client_ip,
            subject: subject.as_ref(),
            json_body: None,
        };
        let decision = match self.decide(&facts, &mut Resolved::new()).await {
            Ok(d) => d,
            Err(r) => return r,
        };
        match decision {
            Decision::Allow { route, .. } => {
                let mut r = deny(StatusCode::OK);
                if let Some(extra) = identity.as_ref().and_then(identity_headers) {
                    r.headers_mut().extend(extra);
                }
                if let Some(v) = self
                    .inner
                    .policy
                    .routes
                    .get(route)
                    .and_then(|r| HeaderValue::from_str(&r.name).ok())
                {
                    r.headers_mut().insert(ROUTE_HEADER, v);
                }
                r
            }
            Decision::Deny {
                sign_in_may_help: true,
                ..
            } => {
                let mut r = deny(StatusCode::UNAUTHORIZED);
                let mut login = format!("{}/_centinela/login?next=", self.inner.public_url);
                login.extend(form_urlencoded::byte_serialize(path.encoded().as_bytes()));
                if let Ok(v) = HeaderValue::from_str(&login) {
                    r.headers_mut().insert(LOGIN_HEADER, v);
                }
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"centinela\""),
                );
                r
            }
            Decision::Deny { reason, .. } => {
                tracing::info!(method = %method, path = %path, client = %client_ip, reason = %reason, "Forward-auth denied");
                deny(StatusCode::FORBIDDEN)
            }
            Decision::NeedBody | Decision::NeedLookup { .. } => deny(StatusCode::FORBIDDEN),
        }
    }
}

/// Header of a forward-auth 401 naming the login page to send the browser to.
pub const LOGIN_HEADER: HeaderName = HeaderName::from_static("x-centinela-login");

/// Bodies larger than this are inspected on the blocking pool, so a large upload
/// does not hold a runtime thread for milliseconds.
const INSPECT_INLINE_BYTES: usize = 64 * 1024;

/// Runs request inspection for an allowed request: the attack detectors, then the
/// route's JSON Schema. `Some(answer)` when it is refused; detect-only findings are
/// logged and the request goes on.
async fn inspect_request(
    parts: &http::request::Parts,
    body: Option<&Bytes>,
    route: &policy::Route,
    identity: Option<&Identity>,
    client_ip: IpAddr,
    audit: Option<&AuditSink>,
) -> Option<Response<Body>> {
    if let Some(refusal) = inspect_attacks(parts, body, route, identity, client_ip, audit).await {
        return Some(refusal);
    }
    let (Some(schema), Some(body)) = (&route.inspect.json_schema, body) else {
        return None;
    };
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
    if !is_json {
        return None;
    }
    let violations = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(doc) => match schema.check(&doc) {
            Ok(()) => return None,
            Err(v) => v,
        },
        Err(_) => {
            return Some(problem(
                StatusCode::BAD_REQUEST,
                "bad_json",
                "this request's body must be valid JSON",
            ))
        }
    };
    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
    tracing::info!(route = %route.name, client = %client_ip, violations = ?list, "Body refused by the route's JSON Schema");
    let mut r = Response::new(full(
        serde_json::json!({
            "error": "schema",
            "message": "the request body does not have the shape this endpoint accepts",
            "violations": violations
                .iter()
                .map(|v| serde_json::json!({"at": v.at, "keyword": v.keyword}))
                .collect::<Vec<_>>(),
        })
        .to_string(),
    ));
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Some(r)
}

/// The attack detectors of [`inspect_request`].
async fn inspect_attacks(
    parts: &http::request::Parts,
    body: Option<&Bytes>,
    route: &policy::Route,
    identity: Option<&Identity>,
    client_ip: IpAddr,
    audit: Option<&AuditSink>,
) -> Option<Response<Body>> {
    let large = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > INSPECT_INLINE_BYTES);
    let report = if large {
        // Owned copies for the blocking pool; small requests (nearly all) are judged
        // in place without copying anything.
        let policy = route.inspect.clone();
        let method = parts.method.as_str().to_owned();
        let path = parts.uri.path().to_owned();
        let query = parts.uri.query().map(str::to_owned);
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = body.cloned().unwrap_or_default();
        let run = move || {
            let hs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let req = inspect::Request {
                method: &method,
                path: &path,
                query: query.as_deref(),
                headers: &hs,
                body: &body,
            };
            inspect::inspect(&req, &policy)
        };
        match tokio::task::spawn_blocking(run).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "Inspection failed; refusing the request");
                return Some(problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                ));
            }
        }
    } else {
        let hs: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let req = inspect::Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            headers: &hs,
            body: body.map_or(&[][..], |b| &b[..]),
        };
        inspect::inspect(&req, &route.inspect)
    };
    if report.findings.is_empty() {
        return None;
    }
    let request_id = new_request_id();
    let findings: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{}:{:?}:{}:{}",
                f.detector.as_str(),
                f.source,
                f.name,
                f.reason
            )
        })
        .collect();
    let user = identity.map_or("-", |i| i.username.as_str());
    if report.verdict != inspect::Verdict::Pass {
        if let Some(a) = audit {
            let detectors: Vec<&str> = report
                .findings
                .iter()
                .map(|f| f.detector.as_str())
                .collect();
            let params: Vec<&str> = report.findings.iter().map(|f| f.name.as_str()).collect();
            // Where and why, with the finding's short excerpt (at most 40 characters,
            // `[redacted]` for secret-looking parameters): enough to judge a false
            // positive, never the payload or the body in full.
            let detail: Vec<serde_json::Value> = report
                .findings
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "detector": f.detector.as_str(),
                        "source": f.source,
                        "parameter": f.name,
                        "reason": f.reason,
                        "excerpt": f.excerpt,
                    })
                })
                .collect();
            let mut e = Event::new(
                Kind::InspectionBlocked,
                if report.verdict == inspect::Verdict::Block {
                    "failure"
                } else {
                    "unknown"
                },
                now_ms(),
            )
            .client(client_ip)
            .target(format!("{} {}", parts.method, parts.uri.path()))
            .detail("request_id", request_id.as_str())
            .detail("route", route.name.as_str())
            .detail("score", report.score)
            .detail("detectors", detectors)
            .detail("parameters", params)
            .detail("findings", detail)
            .detail(
                "mode",
                if report.verdict == inspect::Verdict::Block {
                    "block"
                } else {
                    "detect-only"
                },
            );
            if let Some(i) = identity {
                e = e.actor(&i.username);
            }
            a.record(e);
        }
    }
    match report.verdict {
        inspect::Verdict::Block => {
            tracing::warn!(
                request_id = %request_id,
                route = %route.name,
                user = user,
                client = %client_ip,
                score = report.score,
                findings = ?findings,
                "Request blocked by inspection"
            );
            let mut r = Response::new(full(
                serde_json::json!({
                    "error": "blocked",
                    "message": "this request was refused by the security filter; quote the request id if you think this is a mistake",
                    "request_id": request_id,
                })
                .to_string(),
            ));
            *r.status_mut() = StatusCode::FORBIDDEN;
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                h.insert(REQUEST_ID_HEADER, v);
            }
            Some(r)
        }
        inspect::Verdict::DetectOnly | inspect::Verdict::Pass => {
            if report.verdict == inspect::Verdict::DetectOnly {
                tracing::warn!(
                    request_id = %request_id,
                    route = %route.name,
                    user = user,
                    client = %client_ip,
                    score = report.score,
                    findings = ?findings,
                    "Request would be blocked (detect-only)"
                );
            }
            None
        }
    }
}

/// Header naming a request in logs, set on refusals.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A random request id (96 bits, base64url).
fn new_request_id() -> String {
    use base64::Engine as _;
    let mut b = [0u8; 12];
    rand::Rng::fill(&mut rand::thread_rng(), &mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Marks a response that came from an upstream through route `.0`.
#[derive(Clone, Copy, Debug)]
struct ForwardedBy(usize);

fn deny_internal(why: &str) -> Decision {
    Decision::Deny {
        route: None,
        reason: why.to_owned(),
        sign_in_may_help: false,
    }
}

fn subject_of(i: &Identity) -> Subject {
    Subject {
        user_id: i.user_id.clone(),
        username: i.username.clone(),
        roles: i.roles.clone(),
        customer_id: i.customer_id.clone(),
        via_token: matches!(i.via, AuthMethod::Token(_)),
    }
}

/// The host the client asked for (HTTP/2 `:authority` or HTTP/1.1 `Host`), lower
/// case, without port.
fn request_host(parts: &http::request::Parts) -> Option<String> {
    let raw = parts.uri.host().map(str::to_owned).or_else(|| {
        parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(|h| {
                if h.starts_with('[') {
                    h.split(']')
                        .next()
                        .map_or(h, |x| x)
                        .trim_start_matches('[')
                        .to_owned()
                } else {
                    h.split(':').next().unwrap_or(h).to_owned()
                }
            })
    })?;
    Some(raw.to_ascii_lowercase())
}

/// The request with its path replaced by the canonical one (the query is kept as
/// sent), so the upstream sees exactly the path the policy judged.
fn with_canonical_path(mut parts: http::request::Parts, path: &NormalPath) -> http::request::Parts {
    if path.is_encoded_as(parts.uri.path()) {
        return parts; // already canonical, as nearly every request is
    }
    let encoded = path.encoded();
    let target = match parts.uri.query() {
        Some(q) => format!("{encoded}?{q}"),
        None => encoded,
    };
    if let Ok(pq) = PathAndQuery::try_from(target) {
        let mut uri_parts = parts.uri.clone().into_parts();
        uri_parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(uri_parts) {
            parts.uri = uri;
        }
    }
    parts
}

/// Keeps the gateway's own credentials at the gateway: its session and CSRF cookies,
/// and the `Authorization` header when it carried a gateway API token. The upstream
/// learns who the caller is from the identity headers and the signed assertion (bound
/// to that upstream); a session id it received could be replayed against every other
/// route, and would end up in its logs.
fn strip_own_credentials(h: &mut HeaderMap, via_gateway_token: bool) {
    if via_gateway_token {
        h.remove(header::AUTHORIZATION);
    }
    let own = |pair: &[u8]| {
        let name = pair
            .split(|&b| b == b'=')
            .next()
            .unwrap_or(pair)
            .trim_ascii();
        name == SESSION_COOKIE.as_bytes() || name == CSRF_COOKIE.as_bytes()
    };
    let carries_own = h
        .get_all(header::COOKIE)
        .iter()
        .any(|v| v.as_bytes().split(|&b| b == b';').any(own));
    if !carries_own {
        return;
    }
    let kept: Vec<&[u8]> = h
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b';'))
        .map(<[u8]>::trim_ascii)
        .filter(|p| !p.is_empty() && !own(p))
        .collect();
    let joined = kept.join(&b"; "[..]);
    h.remove(header::COOKIE);
    if let (false, Ok(v)) = (joined.is_empty(), HeaderValue::from_bytes(&joined)) {
        h.insert(header::COOKIE, v);
    }
}

/// A JSON error answer. The message is fixed text: nothing of the rule or the request
/// is echoed back.
fn problem(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let mut r = Response::new(full(
        serde_json::json!({ "error": code, "message": message }).to_string(),
    ));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The headers that tell the upstream who is calling. `None` if a value cannot be a
/// header (store validation makes that impossible for names, roles and customer ids,
/// but a wrong header is worse than a refused request).
fn identity_headers(i: &Identity) -> Option<HeaderMap> {
    let mut h = HeaderMap::new();
    h.insert(USER_HEADER, HeaderValue::from_str(&i.username).ok()?);
    h.insert(
        ROLES_HEADER,
        HeaderValue::from_str(&i.roles.join(",")).ok()?,
    );
    if let Some(c) = &i.customer_id {
        h.insert(CUSTOMER_HEADER, HeaderValue::from_str(c).ok()?);
    }
    h.insert(
        AUTH_METHOD_HEADER,
        HeaderValue::from_static(match i.via {
            AuthMethod::Session => "session",
            AuthMethod::Token(_) => "token",
        }),
    );
    Some(h)
}

/// An anonymous request that needs a sign-in: browsers navigating to a page are sent
/// to the login form (and brought back afterwards); API clients get a 401.
fn unauthenticated(parts: &http::request::Parts) -> Response<Body> {
    let wants_html = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if parts.method == Method::GET && wants_html {
        let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let mut location = String::from("/_centinela/login?next=");
        location.extend(form_urlencoded::byte_serialize(target.as_bytes()));
        let mut r = Response::new(full(""));
        *r.status_mut() = StatusCode::SEE_OTHER;
        if let Ok(v) = HeaderValue::from_str(&location) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return r;
    }
    let mut r = problem(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "sign in at /_centinela/login or send Authorization: Bearer <token>",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"centinela\""),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(customer: Option<&str>) -> Identity {
        Identity {
            user_id: "u1".into(),
            username: "alice".into(),
            roles: vec!["customer".into(), "support".into()],
            customer_id: customer.map(str::to_owned),
            via: AuthMethod::Token("tok_1".into()),
        }
    }

    /// Request headers: every `cookie` value as its own `Cookie` header, then
    /// `Authorization` when given.
    fn with_cookies(cookies: &[&'static str], authorization: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        for c in cookies {
            h.append(header::COOKIE, HeaderValue::from_static(c));
        }
        if let Some(a) = authorization {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(a));
        }
        h
    }

    #[test]
    fn own_credentials_stay_at_the_gateway() {
        let mut h = with_cookies(
            &[
                "theme=dark; __Host-centinela=sid; csrftoken=t",
                "__Host-centinela-csrf=c",
            ],
            Some("Bearer app"),
        );
        strip_own_credentials(&mut h, false);
        assert_eq!(h.get_all(header::COOKIE).iter().count(), 1);
        assert_eq!(h[header::COOKIE], "theme=dark; csrftoken=t");
        assert_eq!(h[header::AUTHORIZATION], "Bearer app");

        // A gateway token is the gateway's; a cookie of a similar name is not.
        let mut h = with_cookies(&["__Host-centinela=x"], Some("Bearer cnt_x"));
        strip_own_credentials(&mut h, true);
        assert!(h.get(header::COOKIE).is_none());
        assert!(h.get(header::AUTHORIZATION).is_none());
        let mut h = HeaderMap::new();
        let odd = HeaderValue::from_bytes(b"__Host-centinela2=y; a=\xff").expect("obs-text");
        h.insert(header::COOKIE, odd.clone());
        strip_own_credentials(&mut h, false);
        assert_eq!(h[header::COOKIE], odd);
    }

    #[test]
    fn identity_headers_carry_user_roles_and_customer() {
        let h = identity_headers(&identity(Some("42"))).expect("headers");
        assert_eq!(h[&USER_HEADER], "alice");
        assert_eq!(h[&ROLES_HEADER], "customer,support");
        assert_eq!(h[&CUSTOMER_HEADER], "42");
        assert_eq!(h[&AUTH_METHOD_HEADER], "token");
        let h = identity_headers(&identity(None)).expect("headers");
        assert!(!h.contains_key(&CUSTOMER_HEADER));
        assert!(subject_of(&identity(None)).via_token);
    }

    #[test]
    fn browsers_are_sent_to_login_and_apis_get_401() {
        let req = Request::get("/reports/7?x=1")
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .body(())
            .expect("request");
        let r = unauthenticated(&req.into_parts().0);
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/_centinela/login?next=%2Freports%2F7%3Fx%3D1"
        );
        let req = Request::get("/api/customers").body(()).expect("request");
        let r = unauthenticated(&req.into_parts().0);
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    }

    #[test]
    fn the_upstream_gets_the_canonical_path_and_the_query_as_sent() {
        let path = policy::normalize("/api//customers/%31%38/", policy::CasePolicy::Sensitive)
            .expect("path");
        let req = Request::get("https://gw.example/api//customers/%31%38/?a=%20b")
            .body(())
            .expect("request");
        let parts = with_canonical_path(req.into_parts().0, &path);
        assert_eq!(parts.uri.path(), "/api/customers/18");
        assert_eq!(parts.uri.query(), Some("a=%20b"));
        assert_eq!(parts.uri.host(), Some("gw.example"));
    }

    #[test]
    fn hosts() {
        let r = Request::get("/")
            .header(header::HOST, "GW.example:8443")
            .body(())
            .expect("r");
        assert_eq!(
            request_host(&r.into_parts().0).as_deref(),
            Some("gw.example")
        );
        let r = Request::get("/")
            .header(header::HOST, "[::1]:8443")
            .body(())
            .expect("r");
        assert_eq!(request_host(&r.into_parts().0).as_deref(), Some("::1"));
    }
}
