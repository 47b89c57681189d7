//! The identity service: login with throttling and a second factor, sessions, API
//! tokens and TOTP enrolment. HTTP handlers (`pages`, `api`) are thin layers over it.
//!
//! Unknown users and wrong passwords take the same path: a dummy Argon2 verification,
//! one failure counted, one generic answer. Throttling counts per account and per
//! client address in the database, so every gateway instance sees the same counts.

use std::net::IpAddr;
use std::time::Duration;

use centinela_core::auditlog::{Event, Kind};
use centinela_core::password::Verification;
use centinela_core::throttle::{self, ThrottleDecision, ThrottlePolicy};
use centinela_core::{recovery, token, totp};
use centinela_store::{Store, StoreError, User, UserStatus};
use zeroize::Zeroizing;

use super::hashing::{HashPool, HashPoolError};

/// Longest password accepted at the login form; longer input is refused before any
/// hashing so it cannot be used to burn CPU.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Login and session settings (from the `[session]` and `[login]` config sections).
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// A session unused this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after login whatever happens.
    pub absolute_timeout: Duration,
    /// Per-account throttling.
    pub throttle: ThrottlePolicy,
    /// Failures from one client address before it is locked out (several people may
    /// share an address, so this is higher than the per-account limit).
    pub ip_max_failures: u32,
    /// Issuer shown in authenticator apps.
    pub totp_issuer: String,
}

impl Default for AuthSettings {
    fn default() -> Self {
        let throttle = ThrottlePolicy::default();
        Self {
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
            ip_max_failures: throttle.max_failures.saturating_mul(5),
            throttle,
            totp_issuer: "Centinela".to_owned(),
        }
    }
}

/// Who is making a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// User row id.
    pub user_id: String,
    /// Login name.
    pub username: String,
    /// Roles in force for this request (a token's subset for API tokens).
    pub roles: Vec<String>,
    /// The user's customer id, for ownership rules.
    pub customer_id: Option<String>,
    /// How the request authenticated.
    pub via: AuthMethod,
}

/// How a request authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// Browser session cookie.
    Session,
    /// `Authorization: Bearer` API token (its public id).
    Token(String),
}

/// Errors of the identity service, each mapped to one HTTP answer by the handlers.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong username, password or code: one message for all, on purpose.
    #[error("invalid username or password")]
    InvalidCredentials,
    /// The second factor is required and was not given.
    #[error("a one-time code from your authenticator app is required")]
    MfaRequired,
    /// The code given as second factor is wrong or already used.
    #[error("invalid or already used one-time code")]
    InvalidCode,
    /// Too many failures: locked for a while.
    #[error("too many failed attempts; try again in {retry_after_secs} seconds")]
    Throttled {
        /// Seconds until the lock expires.
        retry_after_secs: u64,
    },
    /// The password was right but the account may not log in.
    #[error("this account is disabled or locked; contact an administrator")]
    AccountDisabled,
    /// Input breaks a rule (too long, malformed).
    #[error("{0}")]
    BadInput(String),
    /// The database did not answer.
    #[error("the identity store is unavailable; try again shortly")]
    Unavailable,
    /// The hashing pool is saturated.
    #[error("the server is busy checking passwords; try again shortly")]
    Busy,
    /// Anything else (logged, never shown in detail).
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Self::Unavailable,
            StoreError::Invalid(m) => Self::BadInput(m),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<HashPoolError> for AuthError {
    fn from(e: HashPoolError) -> Self {
        match e {
            HashPoolError::Busy => Self::Busy,
            HashPoolError::Failed(m) => Self::Internal(m),
        }
    }
}

/// A new session: the secret id goes into the cookie, nowhere else.
pub struct NewSession {
    /// The cookie value (256-bit random, base64url).
    pub id: centinela_core::secret::SecretString,
    /// The user.
    pub user: User,
    /// True when the second factor is still due.
    pub mfa_pending: bool,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("id", &"***")
            .field("user", &self.user.username)
            .field("mfa_pending", &self.mfa_pending)
            .finish()
    }
}

/// What TOTP enrolment shows the user once.
pub struct TotpEnrolment {
    /// Base32 secret for manual entry.
    pub secret_base32: Zeroizing<String>,
    /// `otpauth://` URI (what the QR code encodes).
    pub uri: Zeroizing<String>,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment(***)")
    }
}

/// The identity service.
#[derive(Clone, Debug)]
pub struct Accounts {
    store: Store,
    hashes: HashPool,
    settings: AuthSettings,
    audit: Option<crate::audit_sink::AuditSink>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn secs_i64(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Throttle key of an account.
pub fn user_key(username: &str) -> String {
    format!("user:{}", username.to_lowercase())
}

/// Throttle key of a client address.
pub fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

impl Accounts {
    /// A service over `store`, hashing with `hashes`.
    pub fn new(store: Store, hashes: HashPool, settings: AuthSettings) -> Self {
        Self {
            store,
            hashes,
            settings,
            audit: None,
        }
    }

    /// Sends security events (logins, lockouts, enrolments, revocations) to `sink`.
    #[must_use]
    pub fn with_audit(mut self, sink: crate::audit_sink::AuditSink) -> Self {
        self.audit = Some(sink);
        self
    }

    fn emit(&self, e: Event) {
        if let Some(a) = &self.audit {
            a.record(e);
        }
    }

    /// After an administrator's completed sign-in: remembers the network, and records
    /// an `admin-new-network` event when it was never seen for them (the alert rule of
    /// that name turns it into an alert). A store error only costs the check.
    async fn note_admin_network(&self, user: &User, client_ip: IpAddr) {
        if !user.roles.iter().any(|r| r == "admin") {
            return;
        }
        let network = centinela_core::policy::net::network_of(client_ip);
        match self.store.note_admin_network(&user.id, &network).await {
            Ok(true) => self.emit(
                Event::new(Kind::AdminNewNetwork, "success", now_ms())
                    .actor(&user.username)
                    .client(client_ip)
                    .detail("network", network),
            ),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "Could not check the administrator's network"),
        }
    }

    /// [`Accounts::login_inner`] with its outcome recorded in the audit log.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        totp_code: Option<&str>,
        client_ip: IpAddr,
        interactive: bool,
    ) -> Result<NewSession, AuthError> {
        let result = self
            .login_inner(username, password, totp_code, client_ip, interactive)
            .await;
        let known = || centinela_store::validate_username(username).is_ok() && username.len() <= 64;
        if let Ok(s) = &result {
            if !s.mfa_pending {
                self.note_admin_network(&s.user, client_ip).await;
            }
        }
        match &result {
            Ok(s) => self.emit(
                Event::new(Kind::LoginSuccess, "success", now_ms())
                    .actor(&s.user.username)
                    .client(client_ip)
                    .detail(
                        "second_factor",
                        if s.mfa_pending {
                            "pending"
                        } else if totp_code.is_some() {
                            "totp"
                        } else {
                            "none"
                        },
                    ),
            ),
            Err(AuthError::Throttled { retry_after_secs }) => self.emit(
                Event::new(Kind::LoginLocked, "failure", now_ms())
                    .client(client_ip)
                    .target(if known() { username } else { "-" })
                    .detail("retry_after_secs", *retry_after_secs),
            ),
            Err(
                e @ (AuthError::InvalidCredentials
                | AuthError::InvalidCode
                | AuthError::AccountDisabled),
            ) => {
                // The name typed is recorded only when it is a real account: people
                // type passwords into the user field, and those must not be logged.
                let existing = if known() {
                    self.store.user_by_username(username).await.ok().flatten()
                } else {
                    None
                };
                let mut ev = Event::new(Kind::LoginFailure, "failure", now_ms())
                    .client(client_ip)
                    .detail(
                        "reason",
                        match e {
                            AuthError::InvalidCode => "bad-second-factor",
                            AuthError::AccountDisabled => "account-disabled",
                            _ if existing.is_some() => "bad-password",
                            _ => "unknown-user",
                        },
                    );
                if let Some(u) = existing {
                    ev = ev.target(u.username);
                }
                self.emit(ev);
            }
            Err(_) => {}
        }
        result
    }

    /// The store (health checks).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The settings in force.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    fn ip_policy(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures: self.settings.ip_max_failures,
            ..self.settings.throttle
        }
    }

    /// Applies the throttle for one key: Err when locked, else sleeps the growing delay.
    async fn throttle_gate(&self, key: &str, policy: &ThrottlePolicy) -> Result<(), AuthError> {
        let window = i64::try_from(policy.window_secs).unwrap_or(i64::MAX);
        let state = self.store.throttle_state(key, window).await?;
        let locked = state.locked_until.and_then(|t| u64::try_from(t).ok());
        match throttle::decide(policy, state.failures, locked, now_secs()) {
            ThrottleDecision::Locked { retry_after_secs } => {
                Err(AuthError::Throttled { retry_after_secs })
            }
            ThrottleDecision::Allow { delay_ms } => {
                if delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                }
                Ok(())
            }
        }
    }

    async fn count_failure(&self, username: &str, ip: IpAddr) -> Result<(), AuthError> {
        for (key, policy) in [
            (user_key(username), self.settings.throttle),
            (ip_key(ip), self.ip_policy()),
        ] {
            self.store
                .record_failure(
                    &key,
                    i64::try_from(policy.window_secs).unwrap_or(i64::MAX),
                    policy.max_failures,
                    i64::try_from(policy.lock_secs).unwrap_or(i64::MAX),
                )
                .await?;
        }
        Ok(())
    }

    /// Checks a password (and a second factor when the account has one) and opens a
    /// session. With `totp: None` for an account that has TOTP: `interactive` opens an
    /// MFA-pending session (the HTML flow asks for the code next), otherwise the call
    /// fails with `MfaRequired` and nothing is stored (the JSON flow resends).
    async fn login_inner(
        &self,
        username: &str,
        password: &str,
        totp_code: Option<&str>,
        client_ip: IpAddr,
        interactive: bool,
    ) -> Result<NewSession, AuthError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(AuthError::BadInput(format!(
                "a password is at most {MAX_PASSWORD_BYTES} bytes"
            )));
        }
        if username.len() > 256 {
            return Err(AuthError::BadInput(
                "a username is at most 64 characters".to_owned(),
            ));
        }
        self.throttle_gate(&ip_key(client_ip), &self.ip_policy())
            .await?;
        self.throttle_gate(&user_key(username), &self.settings.throttle)
            .await?;

        let user = if centinela_store::validate_username(username).is_ok() {
            self.store.user_by_username(username).await?
        } else {
            None
        };
        let Some(user) = user else {
            self.hashes.verify_dummy(password.to_owned()).await?;
            self.count_failure(username, client_ip).await?;
            return Err(AuthError::InvalidCredentials);
        };
        let verdict = self
            .hashes
            .verify(password.to_owned(), user.password_hash.clone())
            .await?;
        let Verification::Match { needs_rehash } = verdict else {
            self.count_failure(username, client_ip).await?;
            return Err(AuthError::InvalidCredentials);
        };
        if user.status != UserStatus::Active {
            return Err(AuthError::AccountDisabled);
        }
        if needs_rehash {
            // Parameters changed since this hash was made: upgrade it now that we hold
            // the password. A failure here must not fail the login.
            match self.hashes.hash(password.to_owned()).await {
                Ok(fresh) => {
                    if let Err(e) = self
                        .store
                        .replace_password_hash(&user.id, &user.password_hash, &fresh)
                        .await
                    {
                        tracing::warn!(user.name = %user.username, error = %e, "Password re-hash not saved");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "Password re-hash failed"),
            }
        }

        let mut mfa_pending = false;
        if user.totp_enabled {
            match totp_code {
                Some(code) => {
                    if !self.check_second_factor(&user.id, code).await? {
                        self.count_failure(username, client_ip).await?;
                        return Err(AuthError::InvalidCode);
                    }
                }
                None if interactive => mfa_pending = true,
                None => return Err(AuthError::MfaRequired),
            }
        }
        if !mfa_pending {
            self.store.clear_throttle(&user_key(username)).await?;
        }
        let id = token::new_session_id();
        self.store
            .create_session(
                &token::digest(id.expose()),
                &user.id,
                mfa_pending,
                secs_i64(self.settings.absolute_timeout),
                Some(&client_ip.to_string()),
            )
            .await?;
        Ok(NewSession {
            id,
            user,
            mfa_pending,
        })
    }

    /// A TOTP code (or, failing that, an unused recovery code) for this user.
    async fn check_second_factor(&self, user_id: &str, code: &str) -> Result<bool, AuthError> {
        if code.len() > 64 {
            return Ok(false);
        }
        if let Some((secret, last)) = self.store.totp_secret(user_id).await? {
            if let Some(step) = totp::verify(&secret, code, now_secs(), last) {
                return Ok(self.store.consume_totp_step(user_id, step).await?);
            }
        }
        let normalized = recovery::normalize(code);
        if normalized.len() >= 10 {
            return Ok(self.store.use_recovery_code(user_id, &normalized).await?);
        }
        Ok(false)
    }

    /// Completes an MFA-pending session with a code: the session id changes.
    pub async fn complete_mfa(
        &self,
        session_id: &str,
        code: &str,
        client_ip: IpAddr,
    ) -> Result<NewSession, AuthError> {
        let digest = token::digest(session_id);
        let Some(rec) = self
            .store
            .lookup_session(&digest, secs_i64(self.settings.idle_timeout))
            .await?
        else {
            return Err(AuthError::InvalidCredentials);
        };
        if !rec.mfa_pending {
            return Err(AuthError::BadInput("this session needs no code".to_owned()));
        }
        self.throttle_gate(&user_key(&rec.username), &self.settings.throttle)
            .await?;
        if !self.check_second_factor(&rec.user_id, code).await? {
            self.count_failure(&rec.username, client_ip).await?;
            self.emit(
                Event::new(Kind::LoginFailure, "failure", now_ms())
                    .client(client_ip)
                    .target(&rec.username)
                    .detail("reason", "bad-second-factor"),
            );
            return Err(AuthError::InvalidCode);
        }
        self.store.clear_throttle(&user_key(&rec.username)).await?;
        self.emit(
            Event::new(Kind::LoginSuccess, "success", now_ms())
                .actor(&rec.username)
                .client(client_ip)
                .detail("second_factor", "totp"),
        );
        let user = self
            .store
            .user_by_id(&rec.user_id)
            .await?
            .ok_or(AuthError::InvalidCredentials)?;
        self.note_admin_network(&user, client_ip).await;
        let id = token::new_session_id();
        self.store
            .rotate_session(&digest, &token::digest(id.expose()), false)
            .await?;
        Ok(NewSession {
            id,
            user,
            mfa_pending: false,
        })
    }

    /// The identity behind a session cookie value, if the session is live and complete.
    pub async fn session_identity(&self, cookie: &str) -> Result<Option<Identity>, AuthError> {
        Ok(self
            .session_record(cookie)
            .await?
            .filter(|r| !r.mfa_pending)
            .map(|r| Identity {
                user_id: r.user_id,
                username: r.username,
                roles: r.roles,
                customer_id: r.customer_id,
                via: AuthMethod::Session,
            }))
    }

    /// The raw session record (including MFA-pending ones), for the login flow.
    pub async fn session_record(
        &self,
        cookie: &str,
    ) -> Result<Option<centinela_store::SessionRecord>, AuthError> {
        if !token::looks_like_session_id(cookie) {
            return Ok(None);
        }
        Ok(self
            .store
            .lookup_session(&token::digest(cookie), secs_i64(self.settings.idle_timeout))
            .await?)
    }

    /// The identity behind an API token.
    pub async fn token_identity(&self, bearer: &str) -> Result<Option<Identity>, AuthError> {
        if !token::looks_like_api_token(bearer) {
            return Ok(None);
        }
        Ok(self
            .store
            .authenticate_api_token(&token::digest(bearer))
            .await?
            .map(|t| Identity {
                user_id: t.user_id,
                username: t.username,
                roles: t.roles,
                customer_id: t.customer_id,
                via: AuthMethod::Token(t.id),
            }))
    }

    /// Ends one session.
    pub async fn logout(&self, cookie: &str) -> Result<(), AuthError> {
        if token::looks_like_session_id(cookie) {
            let who = self.session_record(cookie).await.ok().flatten();
            if self.store.delete_session(&token::digest(cookie)).await? {
                let mut e = Event::new(Kind::Logout, "success", now_ms());
                if let Some(r) = who {
                    e = e.actor(r.username);
                }
                self.emit(e);
            }
        }
        Ok(())
    }

    /// Ends every session of the user.
    pub async fn logout_everywhere(&self, user_id: &str) -> Result<u64, AuthError> {
        let n = self.store.delete_user_sessions(user_id).await?;
        let name = self
            .store
            .user_by_id(user_id)
            .await
            .ok()
            .flatten()
            .map(|u| u.username);
        let mut e = Event::new(Kind::SessionsRevoked, "success", now_ms()).detail("sessions", n);
        if let Some(n) = name {
            e = e.actor(n.clone()).target(n);
        }
        self.emit(e);
        Ok(n)
    }

    /// Starts TOTP enrolment: stores a new secret (not yet enforced) and returns what the
    /// authenticator app needs.
    pub async fn begin_totp(&self, user: &Identity) -> Result<TotpEnrolment, AuthError> {
        let secret = totp::generate_secret();
        self.store
            .set_totp_secret(&user.user_id, Some(secret.expose()), false)
            .await?;
        Ok(TotpEnrolment {
            secret_base32: Zeroizing::new(totp::encode_secret(secret.expose())),
            uri: Zeroizing::new(totp::provisioning_uri(
                &self.settings.totp_issuer,
                &user.username,
                secret.expose(),
            )),
        })
    }

    /// Confirms enrolment with a first code, turns the second factor on, and returns ten
    /// fresh recovery codes (shown once) and a new session id (a privilege change).
    pub async fn confirm_totp(
        &self,
        session_id: &str,
        user: &Identity,
        code: &str,
    ) -> Result<(Vec<centinela_core::secret::SecretString>, NewSession), AuthError> {
        let Some((secret, last)) = self.store.totp_secret(&user.user_id).await? else {
            return Err(AuthError::BadInput(
                "start enrolment first: no pending secret".to_owned(),
            ));
        };
        let Some(step) = totp::verify(&secret, code, now_secs(), last) else {
            return Err(AuthError::InvalidCode);
        };
        if !self.store.consume_totp_step(&user.user_id, step).await? {
            return Err(AuthError::InvalidCode);
        }
        self.store.enable_totp(&user.user_id).await?;
        self.emit(
            Event::new(Kind::MfaEnrolled, "success", now_ms())
                .actor(&user.username)
                .target(&user.username),
        );
        let codes = recovery::generate_codes();
        let normalized: Vec<String> = codes
            .iter()
            .map(|c| recovery::normalize(c.expose()))
            .collect();
        let refs: Vec<&str> = normalized.iter().map(String::as_str).collect();
        self.store
            .replace_recovery_codes(&user.user_id, &refs)
            .await?;
        let session = self.rotate(session_id, &user.user_id).await?;
        Ok((codes, session))
    }

    /// Gives the session a new id (privilege change).
    pub async fn rotate(&self, session_id: &str, user_id: &str) -> Result<NewSession, AuthError> {
        let id = token::new_session_id();
        self.store
            .rotate_session(
                &token::digest(session_id),
                &token::digest(id.expose()),
                false,
            )
            .await?;
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(AuthError::InvalidCredentials)?;
        Ok(NewSession {
            id,
            user,
            mfa_pending: false,
        })
    }

    /// Keyed token for CSRF protection of forms posted with a session: bound to the
    /// session id, the same on every gateway instance, useless without the session.
    pub fn csrf_for_session(&self, session_id: &str) -> String {
        self.store.keyed_digest("csrf", session_id.as_bytes())
    }
}
