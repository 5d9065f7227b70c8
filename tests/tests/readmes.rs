//! The root README is the repository's front door and luxcore-ext's README is the crate's
//! docs.rs and crates.io page: after the root README's two commands they say the same, so
//! the compiled doctests of the crate's README cover the root's examples too.

fn read(path: &str) -> String {
    let path = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn root_readme_is_the_crate_readme_after_its_commands() {
    let root = read("README.md");
    let crate_readme = read("luxcore-ext/README.md");
    let commands_end = root
        .match_indices("```")
        .nth(1)
        .map(|(at, _)| at + 3)
        .expect("the root README opens with its commands block");
    let commands = &root[..commands_end];
    assert!(
        commands.contains("cargo run --example tour") && commands.contains("cargo xtask test"),
        "the first lines are the tour and the test command: {commands}"
    );
    let body = crate_readme
        .strip_prefix("# luxcore-ext\n")
        .expect("the crate README starts with its title");
    assert_eq!(root[commands_end..].trim(), body.trim());
    assert!(
        root.lines().count() <= 200,
        "the front door stays short (about 150-200 lines)"
    );
}
