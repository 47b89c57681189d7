//! The networks each administrator has signed in from, shared by every instance, so
//! a sign-in from a network never seen for that administrator can raise an alert.

use crate::error::{Result, StoreError};
use crate::Store;

impl Store {
    /// Records that `user_id` signed in from `network`. True when that is news: the
    /// network was not known for the user, and the user had signed in from another
    /// one before (an account's first network is where it starts, not an anomaly).
    /// When two instances record the same new network at once, one of them says so.
    pub async fn note_admin_network(&self, user_id: &str, network: &str) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO admin_networks (user_id, network, first_seen) VALUES (?, ?, ?)",
        )
        .bind(user_id)
        .bind(network)
        .bind(crate::db::now())
        .execute(&self.pool)
        .await;
        match inserted.map_err(StoreError::from) {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        let known: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM admin_networks WHERE user_id = ?")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(known > 1)
    }
}
