//! `centinela token ...`: API tokens for machine clients.

use std::process::ExitCode;

use anyhow::Context as _;
use centinela_store::NewApiToken;

use crate::args::TokenCommand;
use crate::context::{record_admin, Context};

fn when(t: Option<i64>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| t.to_string())
}

pub async fn run(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Create {
            cfg,
            user,
            name,
            roles,
            expires,
        } => {
            let ctx = Context::open(&cfg).await?;
            let owner = ctx
                .store
                .user_by_username(&user)
                .await?
                .with_context(|| format!("no user named {user:?}"))?;
            let expires_at = match expires {
                Some(text) => {
                    let d = centinela_core::config::parse_duration(&text)
                        .map_err(|e| anyhow::anyhow!("--expires {text:?}: {e}"))?;
                    let secs = i64::try_from(d.as_secs()).context("--expires is too long")?;
                    Some(crate::context::unix_now().saturating_add(secs))
                }
                None => None,
            };
            let secret = centinela_core::token::new_api_token();
            let rec = ctx
                .store
                .create_api_token(
                    &NewApiToken {
                        user_id: owner.id,
                        name,
                        roles,
                        expires_at,
                    },
                    &centinela_core::token::digest(secret.expose()),
                )
                .await?;
            eprintln!(
                "created token {} for {} (roles: {}). Store it now: it is not shown again.",
                rec.id,
                rec.username,
                if rec.roles.is_empty() {
                    "none".to_owned()
                } else {
                    rec.roles.join(",")
                }
            );
            println!("{}", secret.expose());
            record_admin(
                &ctx.store,
                "token-create",
                &rec.username,
                serde_json::json!({"token_id": rec.id, "roles": rec.roles}),
            )
            .await;
        }
        TokenCommand::List { cfg, user } => {
            let ctx = Context::open(&cfg).await?;
            let uid = match user {
                Some(name) => Some(
                    ctx.store
                        .user_by_username(&name)
                        .await?
                        .with_context(|| format!("no user named {name:?}"))?
                        .id,
                ),
                None => None,
            };
            for t in ctx.store.list_api_tokens(uid.as_deref()).await? {
                println!(
                    "{}\tuser={}\tname={}\troles={}\texpires={}\trevoked={}\tlast_used={}",
                    t.id,
                    t.username,
                    t.name,
                    t.roles.join(","),
                    when(t.expires_at),
                    when(t.revoked_at),
                    when(t.last_used_at),
                );
            }
        }
        TokenCommand::Revoke { cfg, id } => {
            let ctx = Context::open(&cfg).await?;
            if ctx.store.revoke_api_token(&id).await? {
                println!("revoked {id}");
                record_admin(&ctx.store, "token-revoke", &id, serde_json::json!({})).await;
            } else {
                anyhow::bail!("no live token with id {id:?}; `centinela token list` shows them");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
