//! API tokens for machine clients (`Authorization: Bearer`). The token is shown once at
//! creation; the table keeps its SHA-256 only. A token carries a subset of its owner's
//! roles, an optional expiry, and can be revoked.

use data_encoding::HEXLOWER;
use rand::RngCore;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::users::validate_roles;
use crate::Store;

/// A stored token (never the secret itself).
#[derive(Clone, Debug)]
pub struct ApiTokenRecord {
    /// Public id, used to list and revoke.
    pub id: String,
    /// Owner's user id.
    pub user_id: String,
    /// Owner's login name.
    pub username: String,
    /// Label given at creation.
    pub name: String,
    /// Roles the token grants (a subset of the owner's).
    pub roles: Vec<String>,
    /// Owner's customer id.
    pub customer_id: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Expiry, if any.
    pub expires_at: Option<i64>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<i64>,
    /// Last successful use.
    pub last_used_at: Option<i64>,
}

/// A token to store.
#[derive(Clone, Debug)]
pub struct NewApiToken {
    /// Owner's user id.
    pub user_id: String,
    /// Label.
    pub name: String,
    /// Roles granted; must be a subset of the owner's roles.
    pub roles: Vec<String>,
    /// Expiry (Unix seconds), if any.
    pub expires_at: Option<i64>,
}

fn split_roles(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

fn token_from_row(row: &AnyRow) -> Result<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        username: row.try_get("username")?,
        name: row.try_get("name")?,
        roles: split_roles(&row.try_get::<String, _>("roles")?),
        customer_id: row.try_get("customer_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

impl Store {
    /// Stores a token under the digest of its secret. The roles must all be held by the
    /// owner, so a token can never grant more than its user has.
    pub async fn create_api_token(
        &self,
        token: &NewApiToken,
        secret_digest: &[u8; 32],
    ) -> Result<ApiTokenRecord> {
        validate_roles(&token.roles)?;
        if token.name.is_empty()
            || token.name.chars().count() > 128
            || token.name.chars().any(char::is_control)
        {
            return Err(StoreError::Invalid(
                "a token name is 1 to 128 printable characters".to_owned(),
            ));
        }
        let owner = self
            .user_by_id(&token.user_id)
            .await?
            .ok_or_else(|| StoreError::NotFound("user".to_owned()))?;
        if let Some(r) = token.roles.iter().find(|r| !owner.roles.contains(r)) {
            return Err(StoreError::Invalid(format!(
                "user {} does not have role {r:?}; a token can only carry its owner's roles",
                owner.username
            )));
        }
        let mut idb = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut idb);
        let id = format!("tok_{}", HEXLOWER.encode(&idb));
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, roles, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&token.user_id)
        .bind(&token.name)
        .bind(HEXLOWER.encode(secret_digest))
        .bind(token.roles.join(","))
        .bind(crate::db::now())
        .bind(token.expires_at)
        .execute(&self.pool)
        .await?;
        self.api_token(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound("token".to_owned()))
    }

    /// A token by its public id.
    pub async fn api_token(&self, id: &str) -> Result<Option<ApiTokenRecord>> {
        let row = sqlx::query(
            "SELECT t.id, t.user_id, u.username, t.name, t.roles, u.customer_id, t.created_at, \
             t.expires_at, t.revoked_at, t.last_used_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// The usable token with this secret digest: not revoked, not expired, and its owner
    /// active. Records the use.
    pub async fn authenticate_api_token(
        &self,
        secret_digest: &[u8; 32],
    ) -> Result<Option<ApiTokenRecord>> {
        let now = crate::db::now();
        let row = sqlx::query(
            "SELECT t.id, t.user_id, u.username, t.name, t.roles, u.roles AS owner_roles, \
             u.customer_id, t.created_at, t.expires_at, t.revoked_at, t.last_used_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = ? AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > ?) AND u.status = ?",
        )
        .bind(HEXLOWER.encode(secret_digest))
        .bind(now)
        .bind("active")
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut rec = token_from_row(&row)?;
        // A token never grants more than its owner holds *now*: a role taken from the
        // user is gone from their tokens at once, without revoking them.
        let owner_roles = split_roles(&row.try_get::<String, _>("owner_roles")?);
        rec.roles.retain(|r| owner_roles.contains(r));
        if rec.last_used_at.is_none_or(|t| now - t >= 60) {
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(now)
                .bind(&rec.id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(rec))
    }

    /// Tokens, optionally only one user's, newest first.
    pub async fn list_api_tokens(&self, user_id: Option<&str>) -> Result<Vec<ApiTokenRecord>> {
        let rows = match user_id {
            Some(uid) => {
                sqlx::query(
                    "SELECT t.id, t.user_id, u.username, t.name, t.roles, u.customer_id, \
                     t.created_at, t.expires_at, t.revoked_at, t.last_used_at \
                     FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = ? \
                     ORDER BY t.created_at DESC, t.id",
                )
                .bind(uid)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT t.id, t.user_id, u.username, t.name, t.roles, u.customer_id, \
                     t.created_at, t.expires_at, t.revoked_at, t.last_used_at \
                     FROM api_tokens t JOIN users u ON u.id = t.user_id \
                     ORDER BY t.created_at DESC, t.id",
                )
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token; it stops working on the next request. True when it was live.
    pub async fn revoke_api_token(&self, id: &str) -> Result<bool> {
        let r =
            sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(crate::db::now())
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected() == 1)
    }
}
