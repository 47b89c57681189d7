//! User accounts: identity attributes, status, password hash, encrypted email (found
//! through its blind index), TOTP secret and recovery codes.

use data_encoding::HEXLOWER;
use rand::RngCore;
use sqlx::any::AnyRow;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::keys::{ciphertext_key_id, Field};
use crate::Store;

/// Whether an account may log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    /// Normal account.
    Active,
    /// Turned off by an administrator; cannot log in, sessions and tokens refused.
    Disabled,
    /// Locked by an administrator or an automatic response until unlocked.
    Locked,
}

impl UserStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
            Self::Locked => "locked",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            "locked" => Ok(Self::Locked),
            other => Err(StoreError::Database(format!(
                "unknown user status {other:?}"
            ))),
        }
    }
}

impl std::fmt::Display for UserStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user as the rest of the product sees it (email decrypted, hash kept opaque).
#[derive(Clone)]
pub struct User {
    /// Random, stable row id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Name shown in pages.
    pub display_name: String,
    /// Decrypted email, if any.
    pub email: Option<String>,
    /// Role names; policy rules match on them.
    pub roles: Vec<String>,
    /// The customer record this user owns, for ownership rules.
    pub customer_id: Option<String>,
    /// Whether the account may log in.
    pub status: UserStatus,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Whether a second factor is required at login.
    pub totp_enabled: bool,
    /// Creation time (Unix seconds).
    pub created_at: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("roles", &self.roles)
            .field("customer_id", &self.customer_id)
            .field("status", &self.status)
            .field("totp_enabled", &self.totp_enabled)
            .finish_non_exhaustive()
    }
}

/// What is needed to create a user.
#[derive(Clone)]
pub struct NewUser {
    /// Login name: 1–64 of `A-Z a-z 0-9 . _ @ -`.
    pub username: String,
    /// Defaults to the username when empty.
    pub display_name: String,
    /// Optional email (stored encrypted).
    pub email: Option<String>,
    /// Roles: 1–32 of `a-z 0-9 _ -` each.
    pub roles: Vec<String>,
    /// Optional owned customer id.
    pub customer_id: Option<String>,
    /// Argon2id PHC string, already computed by the caller.
    pub password_hash: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

/// Checks a login name; the same rule applies at creation and at login.
pub fn validate_username(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "a username is 1 to 64 characters of letters, digits, '.', '_', '@' and '-'".to_owned(),
        ))
    }
}

/// Checks role names.
pub fn validate_roles(roles: &[String]) -> Result<()> {
    if roles.len() > 32 {
        return Err(StoreError::Invalid("at most 32 roles per user".to_owned()));
    }
    for r in roles {
        let ok = !r.is_empty()
            && r.len() <= 32
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            return Err(StoreError::Invalid(format!(
                "role {r:?}: a role is 1 to 32 characters of a-z, 0-9, '_' and '-'"
            )));
        }
    }
    Ok(())
}

fn validate_customer_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "a customer id is 1 to 64 letters, digits, '-' or '_'".to_owned(),
        ))
    }
}

fn validate_email(email: &str) -> Result<()> {
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{email:?} is not an email address"
        )))
    }
}

/// Emails compare case-insensitively for lookups.
fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub(crate) fn new_row_id() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    HEXLOWER.encode(&b)
}

impl Store {
    fn email_index(&self, email: &str) -> String {
        self.keys
            .keyed_digest("users.email", normalize_email(email).as_bytes())
    }

    async fn user_from_row(&self, row: &AnyRow) -> Result<User> {
        let id: String = row.try_get("id")?;
        let email_ct: Option<Vec<u8>> = row.try_get("email_ct")?;
        let email = match email_ct {
            Some(ct) => {
                let pt = self
                    .keys
                    .decrypt(&self.pool, Field::UserEmail, &id, &ct)
                    .await?;
                Some(
                    String::from_utf8(pt.to_vec())
                        .map_err(|_| StoreError::Decrypt("email is not UTF-8".to_owned()))?,
                )
            }
            None => None,
        };
        let roles: String = row.try_get("roles")?;
        Ok(User {
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            email,
            roles: roles
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            customer_id: row.try_get("customer_id")?,
            status: UserStatus::parse(&row.try_get::<String, _>("status")?)?,
            password_hash: row.try_get("password_hash")?,
            totp_enabled: row.try_get::<i64, _>("totp_enabled")? != 0,
            created_at: row.try_get("created_at")?,
            id,
        })
    }

    /// Creates a user. Fails with `Conflict` when the username or email is taken.
    pub async fn create_user(&self, new: NewUser) -> Result<User> {
        validate_username(&new.username)?;
        validate_roles(&new.roles)?;
        if let Some(c) = &new.customer_id {
            validate_customer_id(c)?;
        }
        if let Some(e) = &new.email {
            validate_email(e)?;
        }
        if new.display_name.chars().count() > 256 || new.display_name.chars().any(char::is_control)
        {
            return Err(StoreError::Invalid(
                "a display name is at most 256 printable characters".to_owned(),
            ));
        }
        let id = new_row_id();
        let (email_ct, email_idx) = match &new.email {
            Some(e) => (
                Some(
                    self.keys
                        .encrypt(&self.pool, Field::UserEmail, &id, e.trim().as_bytes())
                        .await?,
                ),
                Some(self.email_index(e)),
            ),
            None => (None, None),
        };
        let display = if new.display_name.trim().is_empty() {
            new.username.clone()
        } else {
            new.display_name.clone()
        };
        let now = crate::db::now();
        let res = sqlx::query(
            "INSERT INTO users (id, username, display_name, email_ct, email_idx, roles, \
             customer_id, status, password_hash, totp_enabled, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&new.username)
        .bind(&display)
        .bind(email_ct)
        .bind(email_idx)
        .bind(new.roles.join(","))
        .bind(new.customer_id.clone())
        .bind(UserStatus::Active.as_str())
        .bind(&new.password_hash)
        .bind(0_i64)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => {}
            Err(e) => {
                return Err(match StoreError::from(e) {
                    StoreError::Conflict(_) => {
                        StoreError::Conflict("a user with this username or email".to_owned())
                    }
                    other => other,
                })
            }
        }
        self.user_by_id(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {}", new.username)))
    }

    /// Finds a user by login name.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let row = sqlx::query(USER_BY_USERNAME)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(self.user_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    /// Finds a user by row id.
    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        let row = sqlx::query(USER_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(self.user_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    /// Finds a user by email through the blind index (no plaintext comparison in SQL).
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query(USER_BY_EMAIL_INDEX)
            .bind(self.email_index(email))
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(self.user_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    /// Every user, ordered by username.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(LIST_USERS).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.user_from_row(r).await?);
        }
        Ok(out)
    }

    /// Number of users (the quickstart uses it to tell whether to explain setup).
    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn update_one(&self, result: sqlx::any::AnyQueryResult, what: &str) -> Result<()> {
        if result.rows_affected() == 0 {
            Err(StoreError::NotFound(what.to_owned()))
        } else {
            Ok(())
        }
    }

    /// Sets active / disabled / locked.
    pub async fn set_user_status(&self, user_id: &str, status: UserStatus) -> Result<()> {
        let r = sqlx::query("UPDATE users SET status = ?, updated_at = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(crate::db::now())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        self.update_one(r, "user").await
    }

    /// Replaces the password hash (after a change, or a transparent re-hash at login).
    pub async fn set_password_hash(&self, user_id: &str, phc: &str) -> Result<()> {
        let r = sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(phc)
            .bind(crate::db::now())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        self.update_one(r, "user").await
    }

    /// Re-hash at login: only replaces the hash the caller verified, so a password
    /// change that happened meanwhile is never overwritten.
    pub async fn replace_password_hash(&self, user_id: &str, old: &str, new: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ? AND password_hash = ?",
        )
        .bind(new)
        .bind(crate::db::now())
        .bind(user_id)
        .bind(old)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Replaces the role list (a privilege change: callers must rotate sessions).
    pub async fn set_roles(&self, user_id: &str, roles: &[String]) -> Result<()> {
        validate_roles(roles)?;
        let r = sqlx::query("UPDATE users SET roles = ?, updated_at = ? WHERE id = ?")
            .bind(roles.join(","))
            .bind(crate::db::now())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        self.update_one(r, "user").await
    }

    /// Sets or clears the email.
    pub async fn set_email(&self, user_id: &str, email: Option<&str>) -> Result<()> {
        let (ct, idx) = match email {
            Some(e) => {
                validate_email(e)?;
                (
                    Some(
                        self.keys
                            .encrypt(&self.pool, Field::UserEmail, user_id, e.trim().as_bytes())
                            .await?,
                    ),
                    Some(self.email_index(e)),
                )
            }
            None => (None, None),
        };
        let r = sqlx::query(
            "UPDATE users SET email_ct = ?, email_idx = ?, updated_at = ? WHERE id = ?",
        )
        .bind(ct)
        .bind(idx)
        .bind(crate::db::now())
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        self.update_one(r, "user").await
    }

    /// Stores a TOTP secret (encrypted). `enabled` stays false until the user proves
    /// they can produce a code; clearing the secret disables the second factor.
    pub async fn set_totp_secret(
        &self,
        user_id: &str,
        secret: Option<&[u8]>,
        enabled: bool,
    ) -> Result<()> {
        let ct = match secret {
            Some(s) => Some(
                self.keys
                    .encrypt(&self.pool, Field::UserTotpSecret, user_id, s)
                    .await?,
            ),
            None => None,
        };
        let r = sqlx::query(
            "UPDATE users SET totp_secret_ct = ?, totp_enabled = ?, totp_last_step = NULL, \
             updated_at = ? WHERE id = ?",
        )
        .bind(ct)
        .bind(i64::from(enabled && secret.is_some()))
        .bind(crate::db::now())
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        self.update_one(r, "user").await
    }

    /// Turns on the second factor for a user whose secret is already stored.
    pub async fn enable_totp(&self, user_id: &str) -> Result<()> {
        let r = sqlx::query(
            "UPDATE users SET totp_enabled = ?, updated_at = ? WHERE id = ? AND totp_secret_ct IS NOT NULL",
        )
        .bind(1_i64)
        .bind(crate::db::now())
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        self.update_one(r, "user with a TOTP secret").await
    }

    /// The decrypted TOTP secret and the last step accepted, if a secret is stored.
    pub async fn totp_secret(
        &self,
        user_id: &str,
    ) -> Result<Option<(Zeroizing<Vec<u8>>, Option<u64>)>> {
        let row = sqlx::query("SELECT totp_secret_ct, totp_last_step FROM users WHERE id = ?")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let ct: Option<Vec<u8>> = row.try_get(0)?;
        let last: Option<i64> = row.try_get(1)?;
        match ct {
            Some(ct) => {
                let secret = self
                    .keys
                    .decrypt(&self.pool, Field::UserTotpSecret, user_id, &ct)
                    .await?;
                Ok(Some((secret, last.and_then(|l| u64::try_from(l).ok()))))
            }
            None => Ok(None),
        }
    }

    /// Records that TOTP step `step` was used. Returns false when that step or a later
    /// one was already used: the check and the write are one statement, so two gateway
    /// instances cannot both accept the same code.
    pub async fn consume_totp_step(&self, user_id: &str, step: u64) -> Result<bool> {
        let step = i64::try_from(step)
            .map_err(|_| StoreError::Invalid("TOTP step out of range".to_owned()))?;
        let r = sqlx::query(
            "UPDATE users SET totp_last_step = ? WHERE id = ? \
             AND (totp_last_step IS NULL OR totp_last_step < ?)",
        )
        .bind(step)
        .bind(user_id)
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Replaces the user's recovery codes with these (already normalised) codes,
    /// stored as keyed digests.
    pub async fn replace_recovery_codes(&self, user_id: &str, codes: &[&str]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = ?")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for code in codes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)")
                .bind(user_id)
                .bind(self.keys.keyed_digest("recovery_codes", code.as_bytes()))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Uses one recovery code (already normalised). True when it existed and was unused;
    /// a code can succeed only once, even under concurrent attempts.
    pub async fn use_recovery_code(&self, user_id: &str, code: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? \
             AND used_at IS NULL",
        )
        .bind(crate::db::now())
        .bind(user_id)
        .bind(self.keys.keyed_digest("recovery_codes", code.as_bytes()))
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Unused recovery codes left.
    pub async fn recovery_codes_left(&self, user_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Rewrites every encrypted user field that is not under `key_id`. Each update only
    /// applies if the row still holds the ciphertext that was read, so a concurrent
    /// change by a running server is never overwritten with stale data.
    pub(crate) async fn reencrypt_users(&self, key_id: u32) -> Result<u64> {
        let mut done = 0;
        let mut after = String::new();
        loop {
            let rows = sqlx::query(
                "SELECT id, email_ct, totp_secret_ct FROM users WHERE id > ? ORDER BY id LIMIT 200",
            )
            .bind(&after)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("id")?;
            for row in &rows {
                let id: String = row.try_get("id")?;
                for (field, column) in [
                    (Field::UserEmail, "email_ct"),
                    (Field::UserTotpSecret, "totp_secret_ct"),
                ] {
                    let Some(ct) = row.try_get::<Option<Vec<u8>>, _>(column)? else {
                        continue;
                    };
                    if ciphertext_key_id(&ct)? == key_id {
                        continue;
                    }
                    let pt = self.keys.decrypt(&self.pool, field, &id, &ct).await?;
                    let fresh = self.keys.encrypt(&self.pool, field, &id, &pt).await?;
                    let sql = match field {
                        Field::UserEmail => {
                            "UPDATE users SET email_ct = ? WHERE id = ? AND email_ct = ?"
                        }
                        Field::UserTotpSecret => {
                            "UPDATE users SET totp_secret_ct = ? WHERE id = ? AND totp_secret_ct = ?"
                        }
                    };
                    let r = sqlx::query(sql)
                        .bind(fresh)
                        .bind(&id)
                        .bind(ct)
                        .execute(&self.pool)
                        .await?;
                    done += r.rows_affected();
                }
            }
        }
        Ok(done)
    }

    pub(crate) async fn count_fields_not_under(&self, key_id: u32) -> Result<u64> {
        let rows = sqlx::query("SELECT email_ct, totp_secret_ct FROM users")
            .fetch_all(&self.pool)
            .await?;
        let mut n = 0;
        for row in rows {
            for i in 0..2 {
                if let Some(ct) = row.try_get::<Option<Vec<u8>>, _>(i)? {
                    if ciphertext_key_id(&ct)? != key_id {
                        n += 1;
                    }
                }
            }
        }
        Ok(n)
    }
}

const LIST_USERS: &str =
    "SELECT id, username, display_name, email_ct, roles, customer_id, status, \
     password_hash, totp_enabled, created_at FROM users ORDER BY username";
const USER_BY_ID: &str =
    "SELECT id, username, display_name, email_ct, roles, customer_id, status, \
     password_hash, totp_enabled, created_at FROM users WHERE id = ?";
const USER_BY_USERNAME: &str = "SELECT id, username, display_name, email_ct, roles, customer_id, \
     status, password_hash, totp_enabled, created_at FROM users WHERE username = ?";
const USER_BY_EMAIL_INDEX: &str =
    "SELECT id, username, display_name, email_ct, roles, customer_id, \
     status, password_hash, totp_enabled, created_at FROM users WHERE email_idx = ?";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(validate_username("alice").is_ok());
        assert!(validate_username("a.b_c@d-e").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("x' OR '1'='1").is_err());
        assert!(validate_username(&"a".repeat(65)).is_err());
    }

    #[test]
    fn roles_and_emails() {
        assert!(validate_roles(&["admin".into(), "agent_2".into()]).is_ok());
        assert!(validate_roles(&["Admin".into()]).is_err());
        assert!(validate_roles(&["a,b".into()]).is_err());
        assert!(validate_email("a@example.com").is_ok());
        assert!(validate_email("a@b").is_err());
        assert!(validate_email("a b@example.com").is_err());
    }
}
