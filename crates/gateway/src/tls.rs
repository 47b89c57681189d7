//! TLS termination: the rustls server configuration (versions, suites, ALPN), loading
//! PEM certificates, the self-signed development certificate of the quickstart, and
//! [`ReloadableTls`], a certificate resolver whose certificate can be replaced while
//! connections stay up (renewals should not cut anyone off).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::SupportedCipherSuite;
use tokio::task::JoinHandle;

use crate::error::GatewayError;

/// File name of the development certificate inside its directory.
pub const DEV_CERT_FILE: &str = "dev-cert.pem";
/// File name of the development private key inside its directory.
pub const DEV_KEY_FILE: &str = "dev-key.pem";

/// ALPN protocols offered, in preference order.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// Suites allowed: all AEAD with forward secrecy. Listed explicitly rather than taking
/// the provider default so that a rustls upgrade cannot widen the set unnoticed.
static CIPHER_SUITES: &[SupportedCipherSuite] = {
    use rustls::crypto::ring::cipher_suite::*;
    &[
        TLS13_AES_256_GCM_SHA384,
        TLS13_AES_128_GCM_SHA256,
        TLS13_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
};

/// The ring provider restricted to [`CIPHER_SUITES`].
pub fn crypto_provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = CIPHER_SUITES.to_vec();
    Arc::new(provider)
}

/// Server configuration around a certificate resolver: TLS 1.2 and 1.3 only, no client
/// certificates, ALPN h2 then http/1.1.
fn build_server_config(
    resolver: Arc<dyn ResolvesServerCert>,
) -> Result<Arc<rustls::ServerConfig>, GatewayError> {
    let mut cfg = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| GatewayError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    cfg.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(cfg))
}

/// Loads a PEM certificate chain (leaf first) and its PEM private key into a fixed
/// rustls server configuration. For certificates that change at run time use
/// [`ReloadableTls`].
pub fn load_server_config(
    cert_pem: &Path,
    key_pem: &Path,
) -> Result<Arc<rustls::ServerConfig>, GatewayError> {
    let key = load_certified_key(cert_pem, key_pem, &crypto_provider())?;
    build_server_config(Arc::new(FixedCert(Arc::new(key))))
}

#[derive(Debug)]
struct FixedCert(Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, GatewayError> {
    fs::read(path).map_err(|source| GatewayError::ReadFile {
        path: path.to_owned(),
        source,
    })
}

/// Reads and checks a certificate chain and key: both parse, and the key belongs to
/// the leaf certificate (a mismatch would otherwise only show as failed handshakes).
fn load_certified_key(
    cert_pem: &Path,
    key_pem: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, GatewayError> {
    let cert_bytes = read_file(cert_pem)?;
    let chain = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| GatewayError::Pem {
            path: cert_pem.to_owned(),
            reason: format!("invalid PEM ({e})"),
        })?;
    if chain.is_empty() {
        return Err(GatewayError::Pem {
            path: cert_pem.to_owned(),
            reason: "no CERTIFICATE block found; expected a PEM certificate chain, leaf first"
                .into(),
        });
    }

    warn_if_key_readable_by_others(key_pem);
    let key_bytes = read_file(key_pem)?;
    let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| GatewayError::Pem {
        path: key_pem.to_owned(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no private key found; expected a PEM PKCS#8, PKCS#1 (RSA) or SEC1 (EC) key".into()
            }
            other => format!("invalid PEM ({other})"),
        },
    })?;

    CertifiedKey::from_der(chain, key, provider).map_err(|e| GatewayError::KeyPair {
        cert: cert_pem.to_owned(),
        key: key_pem.to_owned(),
        reason: e.to_string(),
    })
}

fn warn_if_key_readable_by_others(key_pem: &Path) {
    if let Ok(meta) = fs::metadata(key_pem) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                path = %key_pem.display(),
                "TLS private key is accessible to other users; restrict it with chmod 600"
            );
        }
    }
}

/// Makes sure `dir` holds a development certificate and key, generating a self-signed
/// pair for `localhost`, `127.0.0.1` and `::1` when neither exists. Returns the
/// certificate path, the key path and whether they were created now.
///
/// The key is written with mode 0600 and the directory created with 0700. If only one
/// of the two files exists the pair is not silently replaced: that usually means
/// something went wrong, and the operator is told which file to remove.
pub fn ensure_dev_certificate(dir: &Path) -> Result<(PathBuf, PathBuf, bool), GatewayError> {
    let cert_path = dir.join(DEV_CERT_FILE);
    let key_path = dir.join(DEV_KEY_FILE);
    let exists = |p: &Path| {
        p.try_exists().map_err(|source| GatewayError::ReadFile {
            path: p.to_owned(),
            source,
        })
    };
    match (exists(&cert_path)?, exists(&key_path)?) {
        (true, true) => return Ok((cert_path, key_path, false)),
        (true, false) => {
            return Err(GatewayError::DevCertIncomplete {
                present: cert_path,
                missing: key_path,
            })
        }
        (false, true) => {
            return Err(GatewayError::DevCertIncomplete {
                present: key_path,
                missing: cert_path,
            })
        }
        (false, false) => {}
    }

    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| GatewayError::WriteFile {
            path: dir.to_owned(),
            source,
        })?;

    let (cert_pem, key_pem) = generate_self_signed(&["localhost", "127.0.0.1", "::1"])?;
    // Write both under temporary names first, so an interrupted run leaves no half pair
    // under the real names.
    let key_tmp = dir.join(format!("{DEV_KEY_FILE}.tmp"));
    let cert_tmp = dir.join(format!("{DEV_CERT_FILE}.tmp"));
    write_new(&key_tmp, key_pem.as_bytes(), 0o600)?;
    write_new(&cert_tmp, cert_pem.as_bytes(), 0o644)?;
    rename(&key_tmp, &key_path)?;
    rename(&cert_tmp, &cert_path)?;
    tracing::info!(
        cert = %cert_path.display(),
        "generated a self-signed development certificate; browsers will warn until it is trusted"
    );
    Ok((cert_path, key_path, true))
}

/// Generates a self-signed certificate (ECDSA P-256) for `names`, valid from a day ago
/// for 397 days (the longest lifetime browsers accept for a server certificate).
/// Returns the certificate and key as PEM.
pub fn generate_self_signed(names: &[&str]) -> Result<(String, String), GatewayError> {
    let gen_err = |e: rcgen::Error| GatewayError::CertGeneration(e.to_string());
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let mut params = rcgen::CertificateParams::new(names).map_err(gen_err)?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "Centinela development certificate",
    );
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let day = Duration::from_secs(86_400);
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + since_epoch.saturating_sub(day);
    params.not_after = epoch + since_epoch + day * 397;
    let key_pair = rcgen::KeyPair::generate().map_err(gen_err)?;
    let cert = params.self_signed(&key_pair).map_err(gen_err)?;
    Ok((cert.pem(), key_pair.serialize_pem()))
}

/// Creates `path` (replacing a stale leftover of an earlier interrupted run) with the
/// given mode from the start, so the key is never briefly readable by others.
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), GatewayError> {
    let werr = |source| GatewayError::WriteFile {
        path: path.to_owned(),
        source,
    };
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(werr(e)),
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(werr)?;
    f.write_all(contents).map_err(werr)?;
    f.sync_all().map_err(werr)
}

fn rename(from: &Path, to: &Path) -> Result<(), GatewayError> {
    fs::rename(from, to).map_err(|source| GatewayError::WriteFile {
        path: to.to_owned(),
        source,
    })
}

/// Modification time, size and inode of a file: enough to notice a replaced or
/// rewritten file without reading it.
type FileStamp = Option<(SystemTime, u64, u64)>;

fn stamp(path: &Path) -> FileStamp {
    let meta = fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino()))
}

/// A certificate resolver whose certificate can be swapped at run time. Handshakes take
/// the current certificate; established connections keep the one they negotiated.
/// Told of every certificate reload: what triggered it (`sighup`, `file-change`) and
/// whether the new files are in service (or why not), e.g. to record it in the audit
/// log.
#[derive(Clone)]
pub struct ReloadHook(pub Arc<dyn Fn(&'static str, Result<(), String>) + Send + Sync>);

impl std::fmt::Debug for ReloadHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReloadHook")
    }
}

impl ReloadHook {
    fn tell(hook: Option<&Self>, trigger: &'static str, result: &Result<(), GatewayError>) {
        if let Some(h) = hook {
            (h.0)(
                trigger,
                match result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(e.to_string()),
                },
            );
        }
    }
}

pub struct ReloadableTls {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    stamps: Mutex<(FileStamp, FileStamp)>,
}

impl std::fmt::Debug for ReloadableTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadableTls")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl ReloadableTls {
    /// Loads the certificate and key; fails if they are unusable.
    pub fn load(cert_pem: &Path, key_pem: &Path) -> Result<Arc<Self>, GatewayError> {
        let provider = crypto_provider();
        let stamps = (stamp(cert_pem), stamp(key_pem));
        let key = load_certified_key(cert_pem, key_pem, &provider)?;
        Ok(Arc::new(Self {
            cert_path: cert_pem.to_owned(),
            key_path: key_pem.to_owned(),
            provider,
            current: RwLock::new(Arc::new(key)),
            stamps: Mutex::new(stamps),
        }))
    }

    /// A rustls server configuration that resolves certificates through `self`.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, GatewayError> {
        build_server_config(Arc::clone(self) as Arc<dyn ResolvesServerCert>)
    }

    /// Re-reads both files and, if they form a usable pair, makes them the certificate
    /// for new handshakes. On failure the previous certificate stays in service.
    pub fn reload(&self) -> Result<(), GatewayError> {
        let stamps = (stamp(&self.cert_path), stamp(&self.key_path));
        *self.stamps.lock().unwrap_or_else(PoisonError::into_inner) = stamps;
        let key = load_certified_key(&self.cert_path, &self.key_path, &self.provider)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(key);
        tracing::info!(cert = %self.cert_path.display(), "TLS certificate reloaded");
        Ok(())
    }

    /// Reloads if either file's modification time, size or inode changed since the last
    /// load. Returns whether a reload was attempted.
    pub fn reload_if_changed(&self) -> Result<bool, GatewayError> {
        let now = (stamp(&self.cert_path), stamp(&self.key_path));
        let changed = *self.stamps.lock().unwrap_or_else(PoisonError::into_inner) != now;
        if changed {
            self.reload()?;
        }
        Ok(changed)
    }

    /// The certificate served to new handshakes.
    pub fn current(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Checks the files every `every` and reloads when they change. A failed reload is
    /// logged once per change and the old certificate kept; writing the certificate and
    /// key one after the other makes the first check see a mismatched pair, and the
    /// next one the complete update.
    pub fn spawn_watcher(
        self: &Arc<Self>,
        every: Duration,
        hook: Option<ReloadHook>,
    ) -> JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                match this.reload_if_changed() {
                    Ok(false) => {}
                    Ok(true) => ReloadHook::tell(hook.as_ref(), "file-change", &Ok(())),
                    Err(e) => {
                        tracing::error!(error = %e, "TLS certificate changed on disk but cannot be used; still serving the previous one");
                        ReloadHook::tell(hook.as_ref(), "file-change", &Err(e));
                    }
                }
            }
        })
    }

    /// Reloads on every SIGHUP (the conventional "re-read your files" signal).
    pub fn spawn_sighup_reloader(
        self: &Arc<Self>,
        hook: Option<ReloadHook>,
    ) -> Result<JoinHandle<()>, GatewayError> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hup = signal(SignalKind::hangup()).map_err(|source| GatewayError::Signal {
            signal: "SIGHUP",
            source,
        })?;
        let this = Arc::clone(self);
        Ok(tokio::spawn(async move {
            while hup.recv().await.is_some() {
                let result = this.reload();
                if let Err(e) = &result {
                    tracing::error!(error = %e, "SIGHUP: TLS certificate reload failed; still serving the previous one");
                }
                ReloadHook::tell(hook.as_ref(), "sighup", &result);
            }
        }))
    }
}

impl ResolvesServerCert for ReloadableTls {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}
