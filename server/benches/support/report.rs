//! What the benchmarks' reports share: how a run of two interleaved arms was set up (`Setup`, printed above the
//! tables and heading the JSON), and where the JSON goes: `target/bench/NAME.json` in the workspace.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Map, Value, json};

/// How the run was set up.
pub struct Setup {
    /// Operations per arm per concurrency level, not counting the warm-up.
    pub count: u64,
    pub warmup: u64,
    pub blocks_per_arm: u64,
    pub cpus: usize,
    pub openbao_version: String,
}

impl Setup {
    pub fn new(count: u64, warmup: u64, blocks_per_arm: u64, openbao_version: String) -> Self {
        Self {
            count,
            warmup,
            blocks_per_arm: blocks_per_arm.min(count),
            cpus: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            openbao_version,
        }
    }

    /// A JSON report: the benchmark's name, this setup (`unit` names what is counted: "requests" makes
    /// `requests_per_arm_per_level`), the levels measured, and the notes printed under the tables.
    pub fn document(&self, benchmark: &str, unit: &str, levels: Vec<Value>, notes: &[&str]) -> Map<String, Value> {
        let mut document = Map::new();
        document.insert("benchmark".into(), json!(benchmark));
        document.insert(format!("{unit}_per_arm_per_level"), json!(self.count));
        document.insert("warmup_per_arm_per_level".into(), json!(self.warmup));
        document.insert("blocks_per_arm".into(), json!(self.blocks_per_arm));
        document.insert("cpus".into(), json!(self.cpus));
        document.insert("openbao_version".into(), json!(self.openbao_version));
        document.insert("levels".into(), json!(levels));
        document.insert("notes".into(), json!(notes));
        document
    }
}

/// The notes under a report's tables, one Markdown list item each.
pub fn push_notes(out: &mut String, notes: &[&str]) {
    out.push('\n');
    for note in notes {
        out.push_str(&format!("- {note}\n"));
    }
}

/// Writes `document` to `target/bench/{name}.json` of the workspace (server's parent folder), whatever
/// CARGO_TARGET_DIR says.
pub fn write_json(name: &str, document: &Value) -> Result<()> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = manifest.parent().unwrap_or(manifest).join("target/bench");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let file = out.join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_string_pretty(document)?)
        .with_context(|| format!("writing {}", file.display()))?;
    eprintln!("[bench] wrote {}", file.display());
    Ok(())
}
