//! The diagrams in `docs/diagrams` are what `scripts/diagrams` makes from the
//! current code: the structure (lifelines, each process's calls in order, with
//! their labels and results), not the timings, which differ from run to run.

use std::path::Path;
use std::process::Command;

const DEMOS: [&str; 5] = [
    "excl_demo",
    "mq_lifecycle",
    "sem_producer_consumer",
    "shm_with_sem",
    "nb_mq",
];

#[test]
fn committed_diagrams_match_a_fresh_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The demos' own tests use the same object names: hold their locks.
    let _locks: Vec<_> = DEMOS
        .iter()
        .map(|d| demo_harness::NamesLock::take(d))
        .collect();
    let out = std::env::temp_dir().join(format!("posix-ipc-diagrams-{}", std::process::id()));
    let run = Command::new(root.join("scripts/diagrams"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run scripts/diagrams");
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    let fresh: Vec<(String, String)> = DEMOS
        .iter()
        .map(|d| {
            let text = std::fs::read_to_string(out.join(format!("{d}.txt"))).unwrap_or_default();
            (d.to_string(), text)
        })
        .collect();
    let _ = std::fs::remove_dir_all(&out);
    assert!(run.status.success(), "scripts/diagrams failed: {stderr}");
    for (demo, fresh) in fresh {
        let committed = root.join(format!("docs/diagrams/{demo}.txt"));
        let committed = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(!fresh.is_empty(), "no structure for {demo}");
        assert_eq!(
            committed, fresh,
            "docs/diagrams/{demo}.txt differs from a fresh run: run scripts/diagrams and commit"
        );
        assert!(
            root.join(format!("docs/diagrams/{demo}.svg")).exists(),
            "docs/diagrams/{demo}.svg is missing"
        );
    }
}
