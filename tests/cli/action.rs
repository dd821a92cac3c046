//! action.yml, which actionlint does not read (it lints workflows, not action metadata): its
//! inputs are the ones its steps use and the workflows pass, and every composite step that
//! runs a command names its shell, as GitHub requires.

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn action() -> String {
    std::fs::read_to_string(format!("{ROOT}/action.yml")).unwrap()
}

/// The input names declared under `inputs:`.
fn declared(action: &str) -> Vec<String> {
    let inputs = action
        .split("\ninputs:\n")
        .nth(1)
        .and_then(|s| s.split("\nruns:\n").next())
        .expect("an inputs block before runs");
    let re = regex::Regex::new(r"(?m)^  ([a-z][a-z0-9-]*):\s*$").unwrap();
    re.captures_iter(inputs).map(|c| c[1].to_string()).collect()
}

#[test]
fn the_actions_inputs_are_the_ones_its_steps_use_and_the_workflows_pass() {
    let action = action();
    let declared = declared(&action);
    assert!(
        declared.contains(&"upload-sarif".into()) && declared.contains(&"build-from-source".into()),
        "{declared:?}"
    );
    let re = regex::Regex::new(r"inputs\.([a-z][a-z0-9-]*)").unwrap();
    let used: Vec<String> = re
        .captures_iter(&action)
        .map(|c| c[1].to_string())
        .collect();
    for u in &used {
        assert!(declared.contains(u), "action.yml uses undeclared input {u}");
    }
    for d in &declared {
        assert!(
            used.contains(d),
            "action.yml declares {d} but no step reads it"
        );
    }

    let mut passed = 0;
    for entry in std::fs::read_dir(format!("{ROOT}/.github/workflows")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // Each `uses: ./` step's `with:` keys (indented deeper than `with:`).
        for step in text.split("- uses: ./\n").skip(1) {
            let mut lines = step.lines();
            let Some(with) = lines.next().filter(|l| l.trim() == "with:") else {
                continue;
            };
            let indent = with.len() - with.trim_start().len();
            for line in lines {
                let depth = line.len() - line.trim_start().len();
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                if depth <= indent {
                    break;
                }
                let key = line.trim().split(':').next().unwrap();
                assert!(
                    declared.contains(&key.to_string()),
                    "{} passes `{key}`, which action.yml does not declare",
                    path.display()
                );
                passed += 1;
            }
        }
    }
    assert!(passed >= 4, "the workflows' inputs were found ({passed})");
}

#[test]
fn every_composite_step_that_runs_a_command_names_its_shell() {
    let action = action();
    let steps = action
        .split("\n  steps:\n")
        .nth(1)
        .expect("composite steps");
    let mut runs = 0;
    for step in steps.split("    - name: ").skip(1) {
        if step.contains("\n      run:") {
            runs += 1;
            assert!(step.contains("\n      shell: bash"), "no shell: {step}");
        } else {
            assert!(
                step.contains("\n      uses: "),
                "neither run nor uses: {step}"
            );
        }
    }
    assert!(runs >= 4, "{runs}");
    let upload = steps
        .split("    - name: ")
        .find(|s| s.contains("github/codeql-action/upload-sarif@"))
        .expect("the code scanning upload");
    assert!(
        upload.contains("if: inputs.mode == 'publish' && inputs.upload-sarif == 'true'"),
        "{upload}"
    );
}
