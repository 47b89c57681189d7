//! Certificate files on disk: the development certificate's generation and
//! permissions, and the errors an operator sees for unusable files.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::os::unix::fs::PermissionsExt;

use centinela_gateway::tls::{self, DEV_CERT_FILE, DEV_KEY_FILE};
use centinela_gateway::{ensure_dev_certificate, load_server_config, GatewayError, ReloadableTls};

#[test]
fn dev_certificate_is_generated_once_with_a_private_key_file() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("centinela-data").join("tls");
    let (cert, key, created) = ensure_dev_certificate(&dir).unwrap();
    assert!(created);
    assert_eq!(cert, dir.join(DEV_CERT_FILE));
    assert_eq!(key, dir.join(DEV_KEY_FILE));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&dir), 0o700);
    assert!(std::fs::read_to_string(&cert)
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);

    let first = std::fs::read(&cert).unwrap();
    let (_, _, created) = ensure_dev_certificate(&dir).unwrap();
    assert!(!created);
    assert_eq!(
        std::fs::read(&cert).unwrap(),
        first,
        "existing pair was replaced"
    );

    let cfg = load_server_config(&cert, &key).unwrap();
    assert_eq!(
        cfg.alpn_protocols,
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    );
}

#[test]
fn dev_certificate_covers_localhost_and_loopback_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _, _) = ensure_dev_certificate(dir.path()).unwrap();
    let der = rustls::pki_types::pem::PemObject::from_pem_file(&cert).unwrap();
    let der: rustls::pki_types::CertificateDer<'_> = der;
    let bytes = der.as_ref();
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"localhost"));
    assert!(contains(&[0x87, 0x04, 127, 0, 0, 1]), "no 127.0.0.1 SAN");
    let mut v6 = vec![0x87, 0x10];
    v6.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    assert!(contains(&v6), "no ::1 SAN");
}

#[test]
fn half_a_dev_pair_is_an_error_not_a_silent_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = ensure_dev_certificate(dir.path()).unwrap();
    std::fs::remove_file(&key).unwrap();
    let err = ensure_dev_certificate(dir.path()).unwrap_err();
    assert!(
        matches!(err, GatewayError::DevCertIncomplete { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(DEV_CERT_FILE) && msg.contains("delete"),
        "{msg}"
    );
    assert!(cert.exists());
}

#[test]
fn unusable_files_give_errors_that_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = ensure_dev_certificate(dir.path()).unwrap();

    let missing = dir.path().join("nope.pem");
    let err = load_server_config(&missing, &key).unwrap_err();
    assert!(matches!(err, GatewayError::ReadFile { .. }), "{err:?}");
    assert!(err.to_string().contains("nope.pem"));

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "hello\n").unwrap();
    let err = load_server_config(&garbage, &key).unwrap_err();
    assert!(matches!(err, GatewayError::Pem { .. }), "{err:?}");
    assert!(err.to_string().contains("no CERTIFICATE block"), "{err}");
    let err = load_server_config(&cert, &garbage).unwrap_err();
    assert!(matches!(err, GatewayError::Pem { .. }), "{err:?}");
    assert!(err.to_string().contains("no private key"), "{err}");

    // A valid key that belongs to another certificate.
    let (_, other_key) = tls::generate_self_signed(&["localhost"]).unwrap();
    let other = dir.path().join("other-key.pem");
    std::fs::write(&other, other_key).unwrap();
    let err = load_server_config(&cert, &other).unwrap_err();
    assert!(matches!(err, GatewayError::KeyPair { .. }), "{err:?}");
    assert!(ReloadableTls::load(&cert, &other).is_err());
}
