//! The minimum Rust version the workspace states is true: no locked dependency
//! needs a newer compiler, and the README says the same version. (Clippy's MSRV
//! lints check our own code against the same `rust-version`.)

use std::process::Command;

fn version(text: &str) -> Vec<u32> {
    text.split('.').map(|n| n.parse().unwrap_or(0)).collect()
}

#[test]
fn no_locked_dependency_needs_a_newer_compiler_than_rust_version() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    // This platform's packages only (the workspace builds on Linux alone): all of
    // them are downloaded by the build that runs this test, so no network is needed.
    let host = Command::new("rustc")
        .arg("-vV")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        })
        .expect("rustc -vV names the host");
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .args(["--filter-platform", &host])
        .current_dir(root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    let packages = metadata["packages"].as_array().unwrap();
    let ours = packages
        .iter()
        .find(|p| p["name"] == "ipc-core")
        .and_then(|p| p["rust_version"].as_str())
        .expect("ipc-core states a rust-version");
    let too_new: Vec<String> = packages
        .iter()
        .filter(|p| !members.contains(&p["id"].as_str().unwrap_or("")))
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > version(ours))
                .then(|| format!("{} {} needs {needs}", p["name"], p["version"]))
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "rust-version is {ours}, but locked dependencies need more: {too_new:?}"
    );
    for member in packages
        .iter()
        .filter(|p| members.contains(&p["id"].as_str().unwrap_or("")))
    {
        assert_eq!(
            member["rust_version"].as_str(),
            Some(ours),
            "{}",
            member["name"]
        );
    }
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    assert!(
        readme.contains(&format!("({ours} or later")),
        "the README names another minimum version than {ours}"
    );
}
