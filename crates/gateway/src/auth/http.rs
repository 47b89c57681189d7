//! HTTP endpoints of the identity service under `/_centinela/`: the HTML login flow
//! (CSRF-protected forms), the JSON API, and request identification for proxied
//! traffic (session cookie or `Authorization: Bearer`).
//!
//! CSRF: before login the form carries a random token that must match a `__Host-`
//! cookie (double submit); after login, forms carry a keyed digest of the session id.
//! JSON endpoints require `Content-Type: application/json`, which a cross-site form
//! cannot send without a CORS preflight, and `Origin`, when present, must be our own.

use std::net::IpAddr;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use subtle::ConstantTimeEq;

use super::pages;
use super::service::{Accounts, AuthError, Identity, NewSession};

/// Name of the session cookie. The `__Host-` prefix makes browsers refuse it unless it
/// is `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain cannot plant one.
pub const SESSION_COOKIE: &str = "__Host-centinela";
/// Name of the pre-login CSRF cookie.
pub const CSRF_COOKIE: &str = "__Host-centinela-csrf";
/// Largest login/API body read.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// Longest wait for a login or account form (at most 16 KiB): a client that
/// trickles one holds the request no longer than this.
const FORM_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Prefix of every path the gateway answers itself.
pub const PREFIX: &str = "/_centinela";

/// CSP of the gateway's own pages: nothing but our stylesheet and same-origin forms.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                        form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Response type of this module.
pub type AuthResponse = Response<Full<Bytes>>;

/// True for paths the gateway serves itself.
pub fn is_own_path(path: &str) -> bool {
    path == PREFIX || path.starts_with("/_centinela/")
}

fn response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> AuthResponse {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn html(status: StatusCode, body: String) -> AuthResponse {
    let mut r = response(status, "text/html; charset=utf-8", body);
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    r
}

fn json(status: StatusCode, value: &serde_json::Value) -> AuthResponse {
    response(status, "application/json", value.to_string())
}

fn redirect(location: &str) -> AuthResponse {
    let mut r = response(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| {
        HeaderValue::from_static(
            "__Host-centinela=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0",
        )
    })
}

fn clear_session_cookie() -> HeaderValue {
    HeaderValue::from_static("__Host-centinela=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

fn with_cookie(mut r: AuthResponse, cookie: HeaderValue) -> AuthResponse {
    r.headers_mut().append(header::SET_COOKIE, cookie);
    r
}

/// The value of one cookie from the request's `Cookie` headers. A name sent twice is
/// treated as absent: a forged duplicate should not pick which one we read.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=') {
                if k == name {
                    if found.is_some() {
                        return None;
                    }
                    found = Some(v.trim_matches('"'));
                }
            }
        }
    }
    found
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// A safe local redirect target: a path on this site, never `//host` or a scheme.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 2048
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// `Origin`, when the browser sends one, must name this host.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(Ok(host))) = (
        origin.to_str(),
        headers.get(header::HOST).map(HeaderValue::to_str),
    ) else {
        return false;
    };
    origin
        .strip_prefix("https://")
        .is_some_and(|o| o.eq_ignore_ascii_case(host))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

fn random_token() -> String {
    centinela_core::token::new_session_id().expose().to_owned()
}

/// Reads a small body, refusing more than [`MAX_FORM_BYTES`].
pub(crate) async fn read_body<B>(body: B) -> Result<Bytes, AuthError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let read = tokio::time::timeout(
        FORM_READ_TIMEOUT,
        Limited::new(body, MAX_FORM_BYTES).collect(),
    );
    match read.await {
        Ok(Ok(c)) => Ok(c.to_bytes()),
        Ok(Err(_)) => Err(AuthError::BadInput(format!(
            "the request body is larger than {MAX_FORM_BYTES} bytes or was cut off"
        ))),
        Err(_) => Err(AuthError::BadInput(
            "the request body did not arrive in time; send it again".to_owned(),
        )),
    }
}

pub(crate) fn form_fields(
    body: &[u8],
) -> Result<std::collections::HashMap<String, String>, AuthError> {
    if std::str::from_utf8(body).is_err() {
        return Err(AuthError::BadInput(
            "the form is not valid UTF-8".to_owned(),
        ));
    }
    let mut out = std::collections::HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if out.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(AuthError::BadInput(
                "a form field was sent twice".to_owned(),
            ));
        }
    }
    Ok(out)
}

fn error_status(e: &AuthError) -> StatusCode {
    match e {
        AuthError::InvalidCredentials | AuthError::MfaRequired | AuthError::InvalidCode => {
            StatusCode::UNAUTHORIZED
        }
        AuthError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        AuthError::AccountDisabled => StatusCode::FORBIDDEN,
        AuthError::BadInput(_) => StatusCode::BAD_REQUEST,
        AuthError::Unavailable | AuthError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        AuthError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn error_code(e: &AuthError) -> &'static str {
    match e {
        AuthError::InvalidCredentials => "invalid_credentials",
        AuthError::MfaRequired => "mfa_required",
        AuthError::InvalidCode => "invalid_code",
        AuthError::Throttled { .. } => "too_many_attempts",
        AuthError::AccountDisabled => "account_disabled",
        AuthError::BadInput(_) => "bad_request",
        AuthError::Unavailable => "unavailable",
        AuthError::Busy => "busy",
        AuthError::Internal(_) => "internal",
    }
}

fn add_retry_after(mut r: AuthResponse, e: &AuthError) -> AuthResponse {
    let secs = match e {
        AuthError::Throttled { retry_after_secs } => Some(*retry_after_secs),
        AuthError::Unavailable => Some(5),
        AuthError::Busy => Some(1),
        _ => None,
    };
    if let Some(s) = secs {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

fn log_error(e: &AuthError) {
    if let AuthError::Internal(detail) = e {
        tracing::error!(error = %detail, "Identity service error");
    }
}

/// The JSON error answer.
pub fn json_error(e: &AuthError) -> AuthResponse {
    log_error(e);
    add_retry_after(
        json(
            error_status(e),
            &serde_json::json!({ "error": error_code(e), "message": e.to_string() }),
        ),
        e,
    )
}

fn page_error(e: &AuthError) -> AuthResponse {
    log_error(e);
    add_retry_after(
        html(
            error_status(e),
            pages::message("Sign-in problem", &e.to_string()),
        ),
        e,
    )
}

fn identity_json(i: &Identity) -> serde_json::Value {
    serde_json::json!({
        "username": i.username,
        "roles": i.roles,
        "customer_id": i.customer_id,
        "method": match &i.via {
            super::service::AuthMethod::Session => "session",
            super::service::AuthMethod::Token(_) => "token",
        },
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonLogin {
    username: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

/// The `/_centinela/` endpoints.
#[derive(Clone, Debug)]
pub struct AuthHttp {
    accounts: Accounts,
}

impl AuthHttp {
    /// Endpoints over an identity service.
    pub fn new(accounts: Accounts) -> Self {
        Self { accounts }
    }

    /// The identity service.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// Who sent this request: a bearer token if present (and only then), else the
    /// session cookie. `Ok(None)` for anonymous requests.
    pub async fn identify(&self, headers: &HeaderMap) -> Result<Option<Identity>, AuthError> {
        if let Some(token) = bearer(headers) {
            return self.accounts.token_identity(token).await;
        }
        match cookie(headers, SESSION_COOKIE) {
            Some(id) => self.accounts.session_identity(id).await,
            None => Ok(None),
        }
    }

    /// Serves a request whose path [`is_own_path`].
    pub async fn handle<B>(&self, req: Request<B>, client_ip: IpAddr) -> AuthResponse
    where
        B: http_body::Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path();
        let query = parts.uri.query().unwrap_or("");
        let h = &parts.headers;
        match (&parts.method, path) {
            (&Method::GET, "/_centinela/static/centinela.css") => {
                let mut r = response(StatusCode::OK, "text/css; charset=utf-8", pages::STYLESHEET);
                r.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                );
                r
            }
            (&Method::GET, "/_centinela/login") => {
                let next = form_urlencoded::parse(query.as_bytes())
                    .find(|(k, _)| k == "next")
                    .map(|(_, v)| v.into_owned());
                self.login_page(&safe_next(next.as_deref()), None, "", StatusCode::OK)
            }
            (&Method::POST, "/_centinela/login") => match read_body(body).await {
                Ok(b) => self.login_submit(h, &b, client_ip).await,
                Err(e) => page_error(&e),
            },
            (&Method::GET, "/_centinela/login/totp") => self.totp_page(h, None).await,
            (&Method::POST, "/_centinela/login/totp") => match read_body(body).await {
                Ok(b) => self.totp_submit(h, &b, client_ip).await,
                Err(e) => page_error(&e),
            },
            (&Method::GET, "/_centinela/account") => self.account_page(h).await,
            (&Method::POST, "/_centinela/logout" | "/_centinela/logout-everywhere") => {
                match read_body(body).await {
                    Ok(b) => self.logout_form(h, &b, path.ends_with("everywhere")).await,
                    Err(e) => page_error(&e),
                }
            }
            (&Method::POST, "/_centinela/account/totp/start") => match read_body(body).await {
                Ok(b) => self.totp_start(h, &b).await,
                Err(e) => page_error(&e),
            },
            (&Method::POST, "/_centinela/account/totp/confirm") => match read_body(body).await {
                Ok(b) => self.totp_confirm(h, &b).await,
                Err(e) => page_error(&e),
            },
            (&Method::POST, "/_centinela/api/login") => {
                if !is_json(h) {
                    return json(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        &serde_json::json!({"error": "unsupported_media_type",
                            "message": "send the credentials as application/json"}),
                    );
                }
                match read_body(body).await {
                    Ok(b) => self.api_login(&b, client_ip).await,
                    Err(e) => json_error(&e),
                }
            }
            (&Method::POST, "/_centinela/api/logout" | "/_centinela/api/logout-everywhere") => {
                if !is_json(h) || !same_origin(h) {
                    return json(
                        StatusCode::FORBIDDEN,
                        &serde_json::json!({"error": "csrf",
                            "message": "send logout as a same-origin application/json request"}),
                    );
                }
                self.api_logout(h, path.ends_with("everywhere")).await
            }
            (&Method::GET, "/_centinela/api/session") => match self.identify(h).await {
                Ok(Some(i)) => json(StatusCode::OK, &identity_json(&i)),
                Ok(None) => json_error(&AuthError::InvalidCredentials),
                Err(e) => json_error(&e),
            },
            (_, "/_centinela/api/login" | "/_centinela/api/logout" | "/_centinela/api/session") => {
                json(
                    StatusCode::METHOD_NOT_ALLOWED,
                    &serde_json::json!({"error": "method_not_allowed", "message": "wrong method"}),
                )
            }
            _ => html(
                StatusCode::NOT_FOUND,
                pages::message("Not found", "There is no such page."),
            ),
        }
    }

    fn login_page(
        &self,
        next: &str,
        error: Option<&str>,
        username: &str,
        status: StatusCode,
    ) -> AuthResponse {
        let csrf = random_token();
        let r = html(status, pages::login(&csrf, next, error, username));
        with_cookie(
            r,
            HeaderValue::from_str(&format!(
                "{CSRF_COOKIE}={csrf}; Path=/; Secure; HttpOnly; SameSite=Strict"
            ))
            .unwrap_or_else(|_| HeaderValue::from_static("")),
        )
    }

    async fn login_submit(&self, h: &HeaderMap, body: &[u8], ip: IpAddr) -> AuthResponse {
        let fields = match form_fields(body) {
            Ok(f) => f,
            Err(e) => return page_error(&e),
        };
        let next = safe_next(fields.get("next").map(String::as_str));
        let csrf_ok = match (cookie(h, CSRF_COOKIE), fields.get("csrf")) {
            (Some(c), Some(f)) => !c.is_empty() && ct_eq(c, f),
            _ => false,
        };
        if !csrf_ok || !same_origin(h) {
            return self.login_page(
                &next,
                Some("Your sign-in form expired. Please try again."),
                "",
                StatusCode::FORBIDDEN,
            );
        }
        let username = fields.get("username").map(String::as_str).unwrap_or("");
        let password = zeroize::Zeroizing::new(fields.get("password").cloned().unwrap_or_default());
        match self
            .accounts
            .login(username, &password, None, ip, true)
            .await
        {
            Ok(s) => self.after_login(s, &next),
            Err(
                e @ (AuthError::InvalidCredentials
                | AuthError::AccountDisabled
                | AuthError::BadInput(_)),
            ) => {
                let shown: String = username.chars().take(64).collect();
                self.login_page(&next, Some(&e.to_string()), &shown, error_status(&e))
            }
            Err(e) => page_error(&e),
        }
    }

    fn after_login(&self, s: NewSession, next: &str) -> AuthResponse {
        let target = if s.mfa_pending {
            let mut t = String::from("/_centinela/login/totp?next=");
            t.extend(form_urlencoded::byte_serialize(next.as_bytes()));
            t
        } else {
            next.to_owned()
        };
        with_cookie(redirect(&target), session_cookie(s.id.expose()))
    }

    async fn totp_page(&self, h: &HeaderMap, error: Option<&str>) -> AuthResponse {
        let Some(id) = cookie(h, SESSION_COOKIE) else {
            return redirect("/_centinela/login");
        };
        match self.accounts.session_record(id).await {
            Ok(Some(r)) if r.mfa_pending => html(
                StatusCode::OK,
                pages::totp_prompt(&self.accounts.csrf_for_session(id), "/", error),
            ),
            Ok(_) => redirect("/_centinela/login"),
            Err(e) => page_error(&e),
        }
    }

    async fn totp_submit(&self, h: &HeaderMap, body: &[u8], ip: IpAddr) -> AuthResponse {
        let Some(id) = cookie(h, SESSION_COOKIE) else {
            return redirect("/_centinela/login");
        };
        let fields = match form_fields(body) {
            Ok(f) => f,
            Err(e) => return page_error(&e),
        };
        if !self.session_csrf_ok(id, &fields, h) {
            return redirect("/_centinela/login");
        }
        let next = safe_next(fields.get("next").map(String::as_str));
        let code = fields.get("code").map(String::as_str).unwrap_or("");
        match self.accounts.complete_mfa(id, code, ip).await {
            Ok(s) => with_cookie(redirect(&next), session_cookie(s.id.expose())),
            Err(AuthError::InvalidCode) => {
                let mut r = self
                    .totp_page(h, Some("That code is wrong or was already used."))
                    .await;
                *r.status_mut() = StatusCode::UNAUTHORIZED;
                r
            }
            Err(AuthError::InvalidCredentials) => redirect("/_centinela/login"),
            Err(e) => page_error(&e),
        }
    }

    fn session_csrf_ok(
        &self,
        session_id: &str,
        fields: &std::collections::HashMap<String, String>,
        h: &HeaderMap,
    ) -> bool {
        let expected = self.accounts.csrf_for_session(session_id);
        same_origin(h) && fields.get("csrf").is_some_and(|f| ct_eq(f, &expected))
    }

    /// The signed-in session for an account page, or the answer to send instead.
    async fn signed_in(&self, h: &HeaderMap) -> Result<(String, Identity), AuthResponse> {
        let Some(id) = cookie(h, SESSION_COOKIE) else {
            return Err(redirect("/_centinela/login?next=/_centinela/account"));
        };
        match self.accounts.session_identity(id).await {
            Ok(Some(i)) => Ok((id.to_owned(), i)),
            Ok(None) => Err(redirect("/_centinela/login?next=/_centinela/account")),
            Err(e) => Err(page_error(&e)),
        }
    }

    async fn account_page(&self, h: &HeaderMap) -> AuthResponse {
        let (sid, ident) = match self.signed_in(h).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let store = self.accounts.store();
        let user = match store.user_by_id(&ident.user_id).await {
            Ok(Some(u)) => u,
            Ok(None) => return redirect("/_centinela/login"),
            Err(e) => return page_error(&AuthError::from(e)),
        };
        let left = match store.recovery_codes_left(&user.id).await {
            Ok(n) => n,
            Err(e) => return page_error(&AuthError::from(e)),
        };
        html(
            StatusCode::OK,
            pages::account(
                &user.username,
                &user.display_name,
                &user.roles,
                user.totp_enabled,
                left,
                &self.accounts.csrf_for_session(&sid),
            ),
        )
    }

    async fn logout_form(&self, h: &HeaderMap, body: &[u8], everywhere: bool) -> AuthResponse {
        let Ok((sid, ident)) = self.signed_in(h).await else {
            return with_cookie(redirect("/_centinela/login"), clear_session_cookie());
        };
        let fields = match form_fields(body) {
            Ok(f) => f,
            Err(e) => return page_error(&e),
        };
        if !self.session_csrf_ok(&sid, &fields, h) {
            return html(
                StatusCode::FORBIDDEN,
                pages::message("Request refused", "The form was not sent from this site."),
            );
        }
        let result = if everywhere {
            self.accounts
                .logout_everywhere(&ident.user_id)
                .await
                .map(|_| ())
        } else {
            self.accounts.logout(&sid).await
        };
        match result {
            Ok(()) => with_cookie(redirect("/_centinela/login"), clear_session_cookie()),
            Err(e) => page_error(&e),
        }
    }

    async fn totp_start(&self, h: &HeaderMap, body: &[u8]) -> AuthResponse {
        let (sid, ident) = match self.signed_in(h).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let fields = match form_fields(body) {
            Ok(f) => f,
            Err(e) => return page_error(&e),
        };
        if !self.session_csrf_ok(&sid, &fields, h) {
            return html(
                StatusCode::FORBIDDEN,
                pages::message("Request refused", "The form was not sent from this site."),
            );
        }
        match self.accounts.begin_totp(&ident).await {
            Ok(enrol) => {
                let svg = match qr_svg(&enrol.uri) {
                    Ok(s) => s,
                    Err(e) => return page_error(&AuthError::Internal(e)),
                };
                html(
                    StatusCode::OK,
                    pages::totp_enrol(
                        &svg,
                        &enrol.secret_base32,
                        &self.accounts.csrf_for_session(&sid),
                        None,
                    ),
                )
            }
            Err(e) => page_error(&e),
        }
    }

    async fn totp_confirm(&self, h: &HeaderMap, body: &[u8]) -> AuthResponse {
        let (sid, ident) = match self.signed_in(h).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let fields = match form_fields(body) {
            Ok(f) => f,
            Err(e) => return page_error(&e),
        };
        if !self.session_csrf_ok(&sid, &fields, h) {
            return html(
                StatusCode::FORBIDDEN,
                pages::message("Request refused", "The form was not sent from this site."),
            );
        }
        let code = fields.get("code").map(String::as_str).unwrap_or("");
        match self.accounts.confirm_totp(&sid, &ident, code).await {
            Ok((codes, session)) => {
                let shown: Vec<String> = codes.iter().map(|c| c.expose().to_owned()).collect();
                with_cookie(
                    html(StatusCode::OK, pages::recovery_codes(&shown)),
                    session_cookie(session.id.expose()),
                )
            }
            Err(AuthError::InvalidCode) => html(
                StatusCode::UNAUTHORIZED,
                pages::message(
                    "Code not accepted",
                    "That code did not match. Start the setup again from your account page.",
                ),
            ),
            Err(e) => page_error(&e),
        }
    }

    async fn api_login(&self, body: &[u8], ip: IpAddr) -> AuthResponse {
        let creds: JsonLogin = match serde_json::from_slice(body) {
            Ok(c) => c,
            Err(_) => {
                return json_error(&AuthError::BadInput(
                    "expected a JSON object {\"username\", \"password\", \"totp\"?}".to_owned(),
                ))
            }
        };
        let password = zeroize::Zeroizing::new(creds.password);
        match self
            .accounts
            .login(&creds.username, &password, creds.totp.as_deref(), ip, false)
            .await
        {
            Ok(s) => {
                let body = serde_json::json!({
                    "username": s.user.username,
                    "roles": s.user.roles,
                    "customer_id": s.user.customer_id,
                });
                with_cookie(json(StatusCode::OK, &body), session_cookie(s.id.expose()))
            }
            Err(e) => json_error(&e),
        }
    }

    async fn api_logout(&self, h: &HeaderMap, everywhere: bool) -> AuthResponse {
        let Some(id) = cookie(h, SESSION_COOKIE) else {
            return with_cookie(
                response(StatusCode::NO_CONTENT, "application/json", ""),
                clear_session_cookie(),
            );
        };
        let result = if everywhere {
            match self.accounts.session_identity(id).await {
                Ok(Some(i)) => self
                    .accounts
                    .logout_everywhere(&i.user_id)
                    .await
                    .map(|_| ()),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            }
        } else {
            self.accounts.logout(id).await
        };
        match result {
            Ok(()) => with_cookie(
                response(StatusCode::NO_CONTENT, "application/json", ""),
                clear_session_cookie(),
            ),
            Err(e) => json_error(&e),
        }
    }
}

fn qr_svg(uri: &str) -> Result<String, String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| e.to_string())?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .build();
    // Drop the XML declaration: the SVG is inlined into an HTML page.
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_owned(),
        None => svg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_local() {
        assert_eq!(safe_next(Some("/api/x?y=1")), "/api/x?y=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/a b")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn duplicate_cookies_are_ignored() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-centinela=abc"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        h.append(
            header::COOKIE,
            HeaderValue::from_static("__Host-centinela=evil"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
    }

    #[test]
    fn origin_check() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("gw.example:8443"));
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://gw.example:8443"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer cnt_abc"),
        );
        assert_eq!(bearer(&h), Some("cnt_abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic Zm9v"),
        );
        assert_eq!(bearer(&h), None);
    }
}
