//! The PKI ceremony through the real binary: `pki init-root`, `pki sign-intermediate` and `pki root-crl` checked
//! with openssl, and `vault bootstrap` against the test stack's OpenBao.

pub mod bootstrap;
mod pki;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `certdesk ARGS` with no configuration file around (the ceremony must not need one).
pub fn certdesk(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_certdesk"))
        .args(args)
        .env_remove("CERTDESK_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

pub fn openssl(args: &[&str]) -> Output {
    Command::new("openssl").args(args).output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("certdesk-it-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A root CA made by the binary in `dir/root`: (certificate, key).
pub fn init_root(dir: &Path) -> (PathBuf, PathBuf) {
    let out = dir.join("root");
    let output = certdesk(&["pki", "init-root", "--out-dir", path(&out), "--common-name", "IT Root CA"]);
    assert!(output.status.success(), "{}", stderr(&output));
    (out.join("root_ca.pem"), out.join("root_ca.key"))
}

/// An openssl-made CSR (and key) in `dir`: `-newkey` spec such as `ec -pkeyopt ec_paramgen_curve:P-256`.
pub fn openssl_csr(dir: &Path, name: &str, newkey: &[&str], subject: &str, san: Option<&str>) -> PathBuf {
    let csr = dir.join(format!("{name}.csr"));
    let key = dir.join(format!("{name}.key"));
    let mut args = vec!["req", "-new", "-nodes", "-newkey"];
    args.extend_from_slice(newkey);
    args.extend_from_slice(&["-keyout", path(&key), "-subj", subject, "-out", path(&csr)]);
    let san = san.map(|san| format!("subjectAltName={san}"));
    if let Some(san) = &san {
        args.extend_from_slice(&["-addext", san]);
    }
    let output = openssl(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    csr
}
