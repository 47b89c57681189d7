//! Field encryption for personal data at rest, and the keys behind it.
//!
//! Envelope encryption: a 256-bit **master key** (from `CENTINELA_MASTER_KEY` or a key
//! file) never encrypts data itself. It wraps **data keys** that live in the
//! `data_keys` table, and derives the HMAC key of the email blind index. Every
//! ciphertext starts with the id of the data key that made it, so `keys rotate` can
//! add a new data key, re-encrypt row by row, and a running server that meets an id it
//! has not seen simply loads that key from the database: rotation needs no restart.
//!
//! Ciphertext layout: `0x01 | key id (u32 BE) | 96-bit nonce | AES-256-GCM output`.
//! The associated data binds each ciphertext to its column and row, so a value copied
//! into another row or column fails to decrypt instead of being silently accepted.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use data_encoding::HEXLOWER;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use sqlx::AnyPool;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};

const VERSION: u8 = 1;
const HEADER_LEN: usize = 1 + 4 + 12;
/// How long a process trusts its idea of the current data key before asking again;
/// bounds how long a running server keeps encrypting under a key that was rotated out.
pub(crate) const CURRENT_KEY_TTL: Duration = Duration::from_secs(5);

/// The 256-bit master key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(k.as_mut());
        Self(k)
    }

    /// Parses the standard base64 form of 32 bytes (what the key file and
    /// `CENTINELA_MASTER_KEY` hold).
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| {
                    StoreError::Key(
                        "the master key is not valid base64; expected 32 random bytes in base64 \
                         (e.g. `head -c32 /dev/urandom | base64`)"
                            .to_owned(),
                    )
                })?,
        );
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            StoreError::Key(format!(
                "the master key decodes to {} bytes; it must be exactly 32",
                bytes.len()
            ))
        })?;
        Ok(Self(Zeroizing::new(arr)))
    }

    /// The base64 form, for writing a key file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.0.as_ref()))
    }

    /// Reads a key file written by [`MasterKey::create_file`].
    pub fn load_file(path: &Path) -> Result<Self> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| StoreError::Io {
                    context: format!("reading the master key file {}", path.display()),
                    source,
                })?,
            );
        Self::from_base64(&text)
    }

    /// Writes a new random key to `path` with mode 0600. Fails if the file exists, so an
    /// existing key (and every ciphertext made under it) is never overwritten.
    pub fn create_file(path: &Path) -> Result<Self> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::db::create_private_dir(dir).map_err(|source| StoreError::Io {
                context: format!("creating {}", dir.display()),
                source,
            })?;
        }
        let key = Self::generate();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| StoreError::Io {
                context: format!("creating the master key file {}", path.display()),
                source,
            })?;
        file.write_all(key.to_base64().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(|source| StoreError::Io {
                context: format!("writing the master key file {}", path.display()),
                source,
            })?;
        Ok(key)
    }

    /// A sub-key for one purpose: HMAC-SHA256(master, label). Distinct labels give
    /// independent keys, so the wrapping key and the index key never coincide.
    fn derive(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(label.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }
}

/// Where a protected value lives; part of the associated data of its ciphertext.
#[derive(Clone, Copy, Debug)]
pub enum Field {
    /// `users.email_ct`
    UserEmail,
    /// `users.totp_secret_ct`
    UserTotpSecret,
}

impl Field {
    fn label(self) -> &'static str {
        match self {
            Self::UserEmail => "users.email",
            Self::UserTotpSecret => "users.totp_secret",
        }
    }
}

struct KeyState {
    current: Option<u32>,
    checked_at: Option<Instant>,
    ciphers: HashMap<u32, Arc<Aes256Gcm>>,
}

/// The process's view of the data keys: wraps and unwraps them with the master key,
/// encrypts and decrypts fields, and computes keyed digests.
pub(crate) struct Keyring {
    wrap: Aes256Gcm,
    index_key: Zeroizing<[u8; 32]>,
    signing_seed: Zeroizing<[u8; 32]>,
    state: RwLock<KeyState>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(***)")
    }
}

fn wrap_aad(id: u32) -> Vec<u8> {
    let mut aad = b"centinela data key ".to_vec();
    aad.extend_from_slice(&id.to_be_bytes());
    aad
}

fn field_aad(field: Field, row_id: &str) -> Vec<u8> {
    let mut aad = field.label().as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(row_id.as_bytes());
    aad
}

fn random_nonce() -> [u8; 12] {
    let mut n = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut n);
    n
}

impl Keyring {
    pub(crate) fn new(master: &MasterKey) -> Self {
        let wrap_key = master.derive("centinela/v1/key-wrapping");
        Self {
            wrap: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(wrap_key.as_ref())),
            index_key: master.derive("centinela/v1/blind-index"),
            signing_seed: master.derive("centinela/v1/assertion-signing"),
            state: RwLock::new(KeyState {
                current: None,
                checked_at: None,
                ciphers: HashMap::new(),
            }),
        }
    }

    /// Makes sure a current data key exists (creating key 1 on a new database) and that
    /// the master key opens every stored data key.
    pub(crate) async fn init(&self, pool: &AnyPool) -> Result<()> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM data_keys")
            .fetch_one(pool)
            .await?;
        if count == 0 {
            match self.insert_key(pool, 1, true).await {
                // Another instance created it at the same moment: use theirs.
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.load_all(pool).await?;
        self.refresh_current(pool).await
    }

    async fn insert_key(&self, pool: &AnyPool, id: u32, current: bool) -> Result<()> {
        let mut raw = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(raw.as_mut());
        let nonce = random_nonce();
        let ct = self
            .wrap
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: raw.as_ref(),
                    aad: &wrap_aad(id),
                },
            )
            .map_err(|_| StoreError::Key("wrapping a new data key failed".to_owned()))?;
        let mut wrapped = nonce.to_vec();
        wrapped.extend_from_slice(&ct);
        sqlx::query(
            "INSERT INTO data_keys (id, wrapped, is_current, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(i64::from(id))
        .bind(wrapped)
        .bind(i64::from(current))
        .bind(crate::db::now())
        .execute(pool)
        .await?;
        Ok(())
    }

    fn unwrap_key(&self, id: u32, wrapped: &[u8]) -> Result<Aes256Gcm> {
        let bad = || {
            StoreError::Key(format!(
                "the master key does not open data key {id}: this database was encrypted under \
                 another master key; point CENTINELA_MASTER_KEY or keys.master_key_file at the \
                 key it was created with"
            ))
        };
        if wrapped.len() < 12 {
            return Err(bad());
        }
        let (nonce, ct) = wrapped.split_at(12);
        let raw = Zeroizing::new(
            self.wrap
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ct,
                        aad: &wrap_aad(id),
                    },
                )
                .map_err(|_| bad())?,
        );
        if raw.len() != 32 {
            return Err(bad());
        }
        Ok(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw)))
    }

    async fn load_all(&self, pool: &AnyPool) -> Result<()> {
        let rows = sqlx::query("SELECT id, wrapped FROM data_keys")
            .fetch_all(pool)
            .await?;
        let mut loaded = HashMap::new();
        for row in rows {
            let id = key_id(row.try_get::<i64, _>(0)?)?;
            let wrapped: Vec<u8> = row.try_get(1)?;
            loaded.insert(id, Arc::new(self.unwrap_key(id, &wrapped)?));
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.ciphers.extend(loaded);
        Ok(())
    }

    async fn refresh_current(&self, pool: &AnyPool) -> Result<()> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM data_keys WHERE is_current = ?")
            .bind(1_i64)
            .fetch_optional(pool)
            .await?;
        let id = id
            .map(key_id)
            .transpose()?
            .ok_or_else(|| StoreError::Key("no current data key in the database".to_owned()))?;
        let known = self.cipher_if_known(id).is_some();
        if !known {
            self.load_all(pool).await?;
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.current = Some(id);
        state.checked_at = Some(Instant::now());
        Ok(())
    }

    fn cipher_if_known(&self, id: u32) -> Option<Arc<Aes256Gcm>> {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state.ciphers.get(&id).cloned()
    }

    async fn current(&self, pool: &AnyPool) -> Result<(u32, Arc<Aes256Gcm>)> {
        let fresh = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            match (state.current, state.checked_at) {
                (Some(id), Some(at)) if at.elapsed() < CURRENT_KEY_TTL => {
                    state.ciphers.get(&id).map(|c| (id, Arc::clone(c)))
                }
                _ => None,
            }
        };
        if let Some(found) = fresh {
            return Ok(found);
        }
        self.refresh_current(pool).await?;
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        state
            .current
            .and_then(|id| state.ciphers.get(&id).map(|c| (id, Arc::clone(c))))
            .ok_or_else(|| StoreError::Key("the current data key is not loaded".to_owned()))
    }

    /// Encrypts `plaintext` for `field` of row `row_id` under the current data key.
    pub(crate) async fn encrypt(
        &self,
        pool: &AnyPool,
        field: Field,
        row_id: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let (id, cipher) = self.current(pool).await?;
        seal(id, &cipher, field, row_id, plaintext)
    }

    /// Decrypts a value made by [`Keyring::encrypt`], loading its data key if this
    /// process has not seen it yet (it was added by a rotation elsewhere).
    pub(crate) async fn decrypt(
        &self,
        pool: &AnyPool,
        field: Field,
        row_id: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let id = ciphertext_key_id(blob)?;
        let cipher = match self.cipher_if_known(id) {
            Some(c) => c,
            None => {
                self.load_all(pool).await?;
                self.cipher_if_known(id).ok_or_else(|| {
                    StoreError::Decrypt(format!("data key {id} is not in the database"))
                })?
            }
        };
        let (nonce, ct) = blob[5..].split_at(12);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: &field_aad(field, row_id),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                StoreError::Decrypt(format!(
                    "{} of row {row_id} failed authentication (tampered or moved)",
                    field.label()
                ))
            })
    }

    /// Keyed digest for lookups that must not reveal the value (email blind index,
    /// throttle keys, recovery codes): hex(HMAC-SHA256(index key, label ‖ 0 ‖ value)).
    /// The seed of the Ed25519 key that signs identity assertions to upstreams:
    /// derived from the master key, so every instance sharing the key signs alike.
    pub(crate) fn signing_seed(&self) -> Zeroizing<[u8; 32]> {
        self.signing_seed.clone()
    }

    pub(crate) fn keyed_digest(&self, label: &str, value: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.index_key.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        HEXLOWER.encode(&mac.finalize().into_bytes())
    }

    /// Adds a new data key, makes it current, and returns its id.
    pub(crate) async fn add_current_key(&self, pool: &AnyPool) -> Result<u32> {
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM data_keys")
            .fetch_one(pool)
            .await?;
        let id = key_id(max.unwrap_or(0) + 1)?;
        self.insert_key(pool, id, false).await?;
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE data_keys SET is_current = ? WHERE id <> ?")
            .bind(0_i64)
            .bind(i64::from(id))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE data_keys SET is_current = ? WHERE id = ?")
            .bind(1_i64)
            .bind(i64::from(id))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.load_all(pool).await?;
        self.refresh_current(pool).await?;
        Ok(id)
    }
}

fn key_id(raw: i64) -> Result<u32> {
    u32::try_from(raw).map_err(|_| StoreError::Key(format!("data key id {raw} is out of range")))
}

fn seal(
    id: u32,
    cipher: &Aes256Gcm,
    field: Field,
    row_id: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let nonce = random_nonce();
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &field_aad(field, row_id),
            },
        )
        .map_err(|_| StoreError::Key("field encryption failed".to_owned()))?;
    let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
    out.push(VERSION);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The data key id a ciphertext was made with.
pub(crate) fn ciphertext_key_id(blob: &[u8]) -> Result<u32> {
    if blob.len() < HEADER_LEN + 16 || blob[0] != VERSION {
        return Err(StoreError::Decrypt(
            "the stored value is not a Centinela ciphertext".to_owned(),
        ));
    }
    let mut id = [0u8; 4];
    id.copy_from_slice(&blob[1..5]);
    Ok(u32::from_be_bytes(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_round_trip_and_redaction() {
        let k = MasterKey::generate();
        let again = MasterKey::from_base64(&k.to_base64()).expect("valid");
        assert_eq!(k.0.as_ref(), again.0.as_ref());
        assert_eq!(format!("{k:?}"), "MasterKey(***)");
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }

    #[test]
    fn key_file_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/master.key");
        let k = MasterKey::create_file(&path).expect("create");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(MasterKey::create_file(&path).is_err());
        let loaded = MasterKey::load_file(&path).expect("load");
        assert_eq!(k.0.as_ref(), loaded.0.as_ref());
    }

    #[test]
    fn sealed_values_are_bound_to_row_and_field() {
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&[7u8; 32]));
        let blob = seal(3, &cipher, Field::UserEmail, "row-1", b"a@example.com").expect("seal");
        assert_eq!(ciphertext_key_id(&blob).expect("id"), 3);
        let open = |field, row: &str| {
            let (nonce, ct) = blob[5..].split_at(12);
            cipher.decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: &field_aad(field, row),
                },
            )
        };
        assert_eq!(
            open(Field::UserEmail, "row-1").expect("open"),
            b"a@example.com"
        );
        assert!(open(Field::UserEmail, "row-2").is_err());
        assert!(open(Field::UserTotpSecret, "row-1").is_err());
        assert!(ciphertext_key_id(b"short").is_err());
    }
}
