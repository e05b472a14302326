//! Test helpers shared by the key and bundle tests: a scratch directory and running the openssl CLI in it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(tag: &str) -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("certdesk-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Self(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write scratch file");
        path
    }

    pub(crate) fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read scratch file")
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Output of a finished command: success, stdout and stderr together (openssl spreads its messages over both).
pub(crate) struct Ran {
    pub(crate) ok: bool,
    pub(crate) output: String,
}

pub(crate) fn run(program: &str, args: &[&str], dir: &Path) -> Ran {
    let out = Command::new(program).args(args).current_dir(dir).output().expect("run tool");
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    Ran { ok: out.status.success(), output }
}

pub(crate) fn openssl(args: &[&str], dir: &Path) -> Ran {
    run("openssl", args, dir)
}

/// Runs openssl and fails the test, showing its output, when it does not succeed.
pub(crate) fn openssl_ok(args: &[&str], dir: &Path) -> String {
    let ran = openssl(args, dir);
    assert!(ran.ok, "openssl {args:?} failed:\n{}", ran.output);
    ran.output
}
