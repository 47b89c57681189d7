//! `centinela keys rotate`: a new data key, and every encrypted field rewritten under
//! it while servers keep running (they load the new key on first sight).

use std::process::ExitCode;

use crate::args::KeysCommand;
use crate::context::Context;

pub async fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Rotate { cfg } => {
            let ctx = Context::open(&cfg).await?;
            eprintln!("rotating data keys; running servers keep serving meanwhile...");
            let report = ctx
                .store
                .rotate_keys(centinela_store::Store::rotation_settle_time())
                .await?;
            println!(
                "data key {} is now current; {} field(s) re-encrypted, {} left under older keys",
                report.new_key_id, report.reencrypted, report.remaining
            );
            let e = centinela_core::auditlog::Event::new(
                centinela_core::auditlog::Kind::KeyRotation,
                if report.remaining == 0 {
                    "success"
                } else {
                    "unknown"
                },
                crate::context::unix_now().saturating_mul(1000),
            )
            .actor(format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
            ))
            .detail("new_key_id", report.new_key_id)
            .detail("reencrypted", report.reencrypted)
            .detail("remaining", report.remaining);
            if let Err(err) = ctx.store.append_audit(&[e]).await {
                eprintln!("centinela: warning: the rotation could not be recorded in the audit log: {err}");
            }
            if report.remaining > 0 {
                eprintln!(
                    "some fields changed during the rotation; run `centinela keys rotate` again"
                );
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
