//! The gateway's top-level handler: requests under `/_centinela/` go to the identity
//! endpoints, everything else must carry a live session or API token and is then
//! proxied with the caller's identity in `X-Centinela-*` headers.
//!
//! Until the access-policy engine lands this is the whole policy: authenticated
//! requests pass, anonymous ones are refused (deny by default).

use std::net::SocketAddr;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::auth::http::{is_own_path, json_error, AuthHttp};
use crate::auth::service::{AuthError, AuthMethod, Identity};
use crate::handler::{boxed, full, Body, BoxFuture, Handler};
use crate::proxy::ProxyHandler;

/// Header carrying the user name to the upstream.
pub const USER_HEADER: HeaderName = HeaderName::from_static("x-centinela-user");
/// Header carrying the roles in force (comma-separated).
pub const ROLES_HEADER: HeaderName = HeaderName::from_static("x-centinela-roles");
/// Header carrying the user's customer id, when the account has one.
pub const CUSTOMER_HEADER: HeaderName = HeaderName::from_static("x-centinela-customer-id");
/// Header saying how the caller authenticated: `session` or `token`.
pub const AUTH_METHOD_HEADER: HeaderName = HeaderName::from_static("x-centinela-auth");

/// Identity endpoints in front of a reverse proxy.
#[derive(Clone, Debug)]
pub struct Gateway {
    auth: AuthHttp,
    proxy: ProxyHandler,
}

impl Gateway {
    /// Serves `auth`'s endpoints and sends authenticated traffic through `proxy`.
    pub fn new(auth: AuthHttp, proxy: ProxyHandler) -> Self {
        Self { auth, proxy }
    }

    async fn serve(self, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        if is_own_path(req.uri().path()) {
            return self.auth.handle(req, peer.ip()).await.map(boxed);
        }
        match self.auth.identify(req.headers()).await {
            Ok(Some(identity)) => match identity_headers(&identity) {
                Some(extra) => self.proxy.forward(req, peer, extra).await,
                None => json_error(&AuthError::Internal(
                    "identity does not fit in a header".to_owned(),
                ))
                .map(boxed),
            },
            Ok(None) => unauthenticated(&req),
            Err(e) => {
                if matches!(e, AuthError::Unavailable) {
                    tracing::warn!("Identity store unavailable; answering 503");
                }
                json_error(&e).map(boxed)
            }
        }
    }
}

impl Handler for Gateway {
    fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> BoxFuture<Response<Body>> {
        Box::pin(self.clone().serve(req, peer))
    }
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

/// An anonymous request: browsers navigating to a page are sent to the login form
/// (and brought back afterwards); API clients get a 401 they can act on.
fn unauthenticated<B>(req: &Request<B>) -> Response<Body> {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if req.method() == Method::GET && wants_html {
        let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
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
    let mut r = json_error(&AuthError::InvalidCredentials).map(boxed);
    *r.status_mut() = StatusCode::UNAUTHORIZED;
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"centinela\""),
    );
    // A clearer message than "invalid username or password" for a request that sent
    // no credentials at all.
    *r.body_mut() = full(
        serde_json::json!({
            "error": "unauthenticated",
            "message": "sign in at /_centinela/login or send Authorization: Bearer <token>",
        })
        .to_string(),
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

    #[test]
    fn identity_headers_carry_user_roles_and_customer() {
        let h = identity_headers(&identity(Some("42"))).expect("headers");
        assert_eq!(h[&USER_HEADER], "alice");
        assert_eq!(h[&ROLES_HEADER], "customer,support");
        assert_eq!(h[&CUSTOMER_HEADER], "42");
        assert_eq!(h[&AUTH_METHOD_HEADER], "token");
        let h = identity_headers(&identity(None)).expect("headers");
        assert!(!h.contains_key(&CUSTOMER_HEADER));
    }

    #[test]
    fn browsers_are_sent_to_login_and_apis_get_401() {
        let req = Request::get("/reports/7?x=1")
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .body(())
            .expect("request");
        let r = unauthenticated(&req);
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/_centinela/login?next=%2Freports%2F7%3Fx%3D1"
        );
        let req = Request::get("/api/customers").body(()).expect("request");
        let r = unauthenticated(&req);
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
