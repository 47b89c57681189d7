//! `centinela alerts list|ack|unblock`: the alert states every gateway instance shares,
//! from the command line (the runbooks use these).

use std::process::ExitCode;

use anyhow::bail;

use crate::args::AlertsCommand;
use crate::context::{record_admin, unix_now, Context};

pub async fn run(cmd: AlertsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AlertsCommand::List { cfg, state, json } => {
            let ctx = Context::open(&cfg).await?;
            for a in ctx.store.list_alerts(state.as_deref(), 200).await? {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({
                            "id": a.id, "rule": a.rule, "key": a.group_key, "state": a.state,
                            "severity": a.severity, "count": a.event_count,
                            "response": a.response, "fired_at_ms": a.fired_at,
                            "acknowledged_by": a.acknowledged_by,
                        })
                    );
                } else {
                    println!(
                        "{}  {:<13} {:<8} {:<30} key={} count={} response={}",
                        a.id, a.state, a.severity, a.rule, a.group_key, a.event_count, a.response
                    );
                }
            }
        }
        AlertsCommand::Ack { cfg, id } => {
            let ctx = Context::open(&cfg).await?;
            let who = format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
            );
            if !ctx
                .store
                .acknowledge_alert(&id, &who, unix_now().saturating_mul(1000))
                .await?
            {
                bail!("no firing alert with id {id:?}; `centinela alerts list --state firing` shows them");
            }
            println!("acknowledged {id}");
            record_admin(&ctx.store, "alert-ack", &id, serde_json::json!({})).await;
        }
        AlertsCommand::Unblock { cfg, ip } => {
            let ctx = Context::open(&cfg).await?;
            if !ctx.store.unblock_address(&ip).await? {
                bail!("{ip} is not blocked");
            }
            println!("unblocked {ip} (gateways apply it within 5 seconds)");
            record_admin(&ctx.store, "address-unblock", &ip, serde_json::json!({})).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
