//! `centinela audit k8s|deps|code|all|mysql|https`: runs a scanner of the audit crate, applies
//! suppressions, renders the report and turns it into the exit code (0 clean, 1
//! findings at or above `--fail-on`, 2 error, 3 scan incomplete).

use std::io::{IsTerminal as _, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use centinela_audit::render::{self, Format};
use centinela_audit::{all, https, k8s, mysql, suppress, Report, Severity};

use crate::args::{AuditCommand, AuditOutput};

/// Parsed output options, checked before any scanning starts.
struct Out {
    format: Format,
    fail_on: Option<Severity>,
    suppressions: suppress::Loaded,
    opts: AuditOutput,
}

fn prepare(opts: AuditOutput) -> anyhow::Result<Out> {
    let format: Format = opts.format.parse()?;
    let fail_on = if opts.fail_on.eq_ignore_ascii_case("none") {
        None
    } else {
        Some(opts.fail_on.parse::<Severity>()?)
    };
    let suppressions = suppress::load(opts.suppressions.as_deref())?;
    Ok(Out {
        format,
        fail_on,
        suppressions,
        opts,
    })
}

pub async fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::K8s {
            paths,
            rbac_who_can,
            out,
        } => {
            let out = prepare(out)?;
            let options = k8s::Options {
                who_can: rbac_who_can.and_then(|v| match v.as_slice() {
                    [verb, resource] => Some((verb.clone(), resource.clone())),
                    _ => None,
                }),
            };
            // The bar draws on stderr and only when stderr is a terminal.
            let (report, outcome) =
                tokio::task::spawn_blocking(move || k8s::scan(&paths, &options, true))
                    .await
                    .context("the k8s scan stopped")?;
            finish(
                report,
                out,
                outcome.who_can.map_or(Extra::None, Extra::WhoCan),
            )
        }
        AuditCommand::Deps(args) => {
            let out = prepare(args.out)?;
            let (paths, db, age) = (args.paths, args.advisories.db, args.advisories.max_age_days);
            let report =
                tokio::task::spawn_blocking(move || super::audit_deps::deps(&paths, &db, age))
                    .await
                    .context("the dependency scan stopped")??;
            finish(report, out, Extra::None)
        }
        AuditCommand::Code(args) => {
            let out = prepare(args.out)?;
            let paths = args.paths;
            let report = tokio::task::spawn_blocking(move || super::audit_deps::code(&paths))
                .await
                .context("the code scan stopped")?;
            finish(report, out, Extra::None)
        }
        AuditCommand::All(args) => {
            let out = prepare(args.out)?;
            let (paths, db, age) = (args.paths, args.advisories.db, args.advisories.max_age_days);
            let (report, ran) =
                tokio::task::spawn_blocking(move || super::audit_deps::all(&paths, &db, age, true))
                    .await
                    .context("the scan stopped")?;
            finish(report, out, Extra::Scorecard(ran))
        }
        AuditCommand::Mysql { url, out } => {
            let out = prepare(out)?;
            let password = std::env::var("CENTINELA_AUDIT_MYSQL_PASSWORD").ok();
            let report = mysql::scan(&url, password.as_deref()).await;
            finish(report, out, Extra::None)
        }
        AuditCommand::Https {
            url,
            ca_file,
            http_url,
            out,
        } => {
            let out = prepare(out)?;
            let options = https::Options {
                ca_file,
                http_url,
                ..https::Options::default()
            };
            let report = https::scan(&url, &options).await;
            finish(report, out, Extra::None)
        }
    }
}

/// What a scanner adds to its report's output.
enum Extra {
    None,
    /// `audit k8s --rbac-who-can`.
    WhoCan(Vec<k8s::WhoCan>),
    /// `audit all`: the scanners that ran, for the scorecard.
    Scorecard(Vec<all::Scanner>),
}

fn finish(mut report: Report, out: Out, extra: Extra) -> anyhow::Result<ExitCode> {
    suppress::apply(&mut report, &out.suppressions);
    report.sort();
    let code = report.exit_code(out.fail_on);
    let (who_can, scorecard) = match extra {
        Extra::None => (None, None),
        Extra::WhoCan(w) => (Some(w), None),
        Extra::Scorecard(ran) => (None, Some(all::Scorecard::of(&report, &ran))),
    };

    let mut buf: Vec<u8> = Vec::new();
    match out.format {
        Format::Json => {
            let mut extra = Vec::new();
            if let Some(w) = &who_can {
                extra.push(("who_can", serde_json::to_value(w)?));
            }
            if let Some(card) = &scorecard {
                extra.push(("scorecard", card.to_json()));
            }
            render::json::render_with(&report, &extra, &mut buf)?;
        }
        format => {
            let color = out.opts.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none();
            if let (Format::Text, Some(w)) = (format, &who_can) {
                write_who_can(&mut buf, w)?;
            }
            render::render(&report, format, color, &mut buf)?;
            if let (Format::Text, Some(card)) = (format, &scorecard) {
                render::text::scorecard(card, color, &mut buf)?;
            }
        }
    }
    match &out.opts.output {
        Some(path) => std::fs::write(path, &buf)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout.write_all(&buf).and_then(|()| stdout.flush()) {
                // A closed pipe (`| head`) is the reader's choice, not a failure.
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return Ok(ExitCode::SUCCESS);
                }
                return Err(e.into());
            }
        }
    }
    Ok(ExitCode::from(code))
}

fn write_who_can(out: &mut Vec<u8>, who: &[k8s::WhoCan]) -> std::io::Result<()> {
    writeln!(out, "Who can ({} subject binding(s)):", who.len())?;
    for w in who {
        let ns = w
            .subject
            .namespace
            .as_ref()
            .map(|n| format!(" (namespace {n})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {} {}{ns}  in {}  via {} -> {}",
            w.subject.kind, w.subject.name, w.scope, w.binding, w.role
        )?;
    }
    writeln!(out)
}
