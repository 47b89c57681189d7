//! `centinela user ...`: account administration against the same store the server uses.

use std::process::ExitCode;

use anyhow::{bail, Context as _};
use centinela_store::{NewUser, User, UserStatus};

use crate::args::UserCommand;
use crate::context::{read_new_password, record_admin, Context};

async fn find(ctx: &Context, username: &str) -> anyhow::Result<User> {
    ctx.store
        .user_by_username(username)
        .await?
        .with_context(|| format!("no user named {username:?}; `centinela user list` shows them"))
}

fn describe(u: &User) -> String {
    format!(
        "{}\troles={}\tcustomer_id={}\tstatus={}\tmfa={}",
        u.username,
        u.roles.join(","),
        u.customer_id.as_deref().unwrap_or("-"),
        u.status,
        if u.totp_enabled { "on" } else { "off" },
    )
}

pub async fn run(cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add {
            cfg,
            username,
            roles,
            customer_id,
            email,
            display_name,
        } => {
            let ctx = Context::open(&cfg).await?;
            centinela_store::validate_username(&username)?;
            centinela_store::validate_roles(&roles)?;
            if ctx.store.user_by_username(&username).await?.is_some() {
                bail!("a user named {username:?} already exists");
            }
            let password = read_new_password(&username)?;
            let hash = ctx.hasher.hash(password.expose())?;
            let user = ctx
                .store
                .create_user(NewUser {
                    username,
                    display_name,
                    email,
                    roles,
                    customer_id,
                    password_hash: hash,
                })
                .await?;
            println!("created user {}", describe(&user));
            record_admin(
                &ctx.store,
                "user-add",
                &user.username,
                serde_json::json!({"roles": user.roles}),
            )
            .await;
        }
        UserCommand::List { cfg, json } => {
            let ctx = Context::open(&cfg).await?;
            for u in ctx.store.list_users().await? {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "username": u.username,
                            "display_name": u.display_name,
                            "roles": u.roles,
                            "customer_id": u.customer_id,
                            "status": u.status.as_str(),
                            "mfa": u.totp_enabled,
                            "created_at": u.created_at,
                        })
                    );
                } else {
                    println!("{}", describe(&u));
                }
            }
        }
        UserCommand::Show { cfg, username } => {
            let ctx = Context::open(&cfg).await?;
            let u = find(&ctx, &username).await?;
            let sessions = ctx.store.count_user_sessions(&u.id).await?;
            println!("username:     {}", u.username);
            println!("display name: {}", u.display_name);
            println!("email:        {}", u.email.as_deref().unwrap_or("-"));
            println!("roles:        {}", u.roles.join(", "));
            println!("customer id:  {}", u.customer_id.as_deref().unwrap_or("-"));
            println!("status:       {}", u.status);
            println!(
                "mfa:          {}",
                if u.totp_enabled { "on" } else { "off" }
            );
            println!("sessions:     {sessions}");
        }
        UserCommand::Disable { cfg, username } => {
            let ctx = Context::open(&cfg).await?;
            let u = find(&ctx, &username).await?;
            ctx.store
                .set_user_status(&u.id, UserStatus::Disabled)
                .await?;
            let n = ctx.store.delete_user_sessions(&u.id).await?;
            println!("disabled {username}; ended {n} session(s)");
            record_admin(
                &ctx.store,
                "user-disable",
                &username,
                serde_json::json!({"sessions_ended": n}),
            )
            .await;
        }
        UserCommand::Roles {
            cfg,
            username,
            roles,
        } => {
            let ctx = Context::open(&cfg).await?;
            let u = find(&ctx, &username).await?;
            ctx.store.set_roles(&u.id, &roles).await?;
            let n = ctx.store.delete_user_sessions(&u.id).await?;
            println!(
                "{username} now has roles {}; ended {n} session(s)",
                roles.join(", ")
            );
            record_admin(
                &ctx.store,
                "user-roles",
                &username,
                serde_json::json!({"roles": roles, "sessions_ended": n}),
            )
            .await;
        }
        UserCommand::ResetMfa { cfg, username } => {
            let ctx = Context::open(&cfg).await?;
            let u = find(&ctx, &username).await?;
            ctx.store.set_totp_secret(&u.id, None, false).await?;
            ctx.store.replace_recovery_codes(&u.id, &[]).await?;
            let n = ctx.store.delete_user_sessions(&u.id).await?;
            println!("removed the second factor of {username}; ended {n} session(s)");
            crate::context::record_admin_as(
                &ctx.store,
                centinela_core::auditlog::Kind::MfaRemoved,
                "user-reset-mfa",
                &username,
                serde_json::json!({"sessions_ended": n}),
            )
            .await;
        }
        UserCommand::Enable { cfg, username } => {
            let ctx = Context::open(&cfg).await?;
            let u = find(&ctx, &username).await?;
            ctx.store.set_user_status(&u.id, UserStatus::Active).await?;
            println!("enabled {username}");
            record_admin(&ctx.store, "user-enable", &username, serde_json::json!({})).await;
        }
        UserCommand::Passwd { cfg, username } => {
            let ctx = Context::open(&cfg).await?;
            let u = find(&ctx, &username).await?;
            let password = read_new_password(&username)?;
            let hash = ctx.hasher.hash(password.expose())?;
            ctx.store.set_password_hash(&u.id, &hash).await?;
            let n = ctx.store.delete_user_sessions(&u.id).await?;
            println!("password changed for {username}; ended {n} session(s)");
            record_admin(
                &ctx.store,
                "user-passwd",
                &username,
                serde_json::json!({"sessions_ended": n}),
            )
            .await;
        }
        UserCommand::Unlock { cfg, username } => {
            let ctx = Context::open(&cfg).await?;
            let u = find(&ctx, &username).await?;
            ctx.store
                .clear_throttle(&centinela_gateway::auth::service::user_key(&u.username))
                .await?;
            if u.status == UserStatus::Locked {
                ctx.store.set_user_status(&u.id, UserStatus::Active).await?;
            }
            println!("unlocked {username}");
            record_admin(&ctx.store, "user-unlock", &username, serde_json::json!({})).await;
        }
        UserCommand::RevokeSessions { cfg, username } => {
            let ctx = Context::open(&cfg).await?;
            let u = find(&ctx, &username).await?;
            let n = ctx.store.delete_user_sessions(&u.id).await?;
            println!("ended {n} session(s) of {username}");
            record_admin(
                &ctx.store,
                "user-revoke-sessions",
                &username,
                serde_json::json!({"sessions_ended": n}),
            )
            .await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
