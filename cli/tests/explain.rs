//! `peapod explain` as kubectl prints it: fields sorted by name,
//! `--recursive`, plural resource names, kubectl's answer for a type peapod
//! has not. No root needed.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

fn explain(args: &[&str]) -> (i32, String, String) {
    let mut argv = vec!["explain"];
    argv.extend(args);
    common::peapod(&argv)
}

/// The field names at the first level of FIELDS.
fn top_fields(text: &str) -> Vec<&str> {
    text.split_once("\nFIELDS:\n")
        .unwrap()
        .1
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .map(|l| l.trim().split('\t').next().unwrap())
        .collect()
}

#[test]
fn explain_printed_fields_unsorted() {
    let (code, out, _) = explain(&["pods.spec.containers"]);
    assert_eq!(code, 0);
    let names = top_fields(&out);
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert_eq!(names.first(), Some(&"args"), "{out}");
}

#[test]
fn explain_had_no_recursive() {
    let (code, out, err) = explain(&["pod.spec.containers", "--recursive"]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        out.contains("\nFIELDS:\n  args\t<[]string>\n  command\t<[]string>\n"),
        "{out}"
    );
    assert!(
        out.contains("\n  ports\t<[]ContainerPort>\n    containerPort\t<integer> -required-\n"),
        "{out}"
    );
    // No descriptions in the tree.
    let fields = out.split_once("\nFIELDS:\n").unwrap().1;
    assert!(fields.lines().all(|l| l.contains('\t')), "{fields}");
}

#[test]
fn explain_of_a_type_peapod_has_not_said_no_such_field() {
    assert_eq!(
        explain(&["ingress"]),
        (
            1,
            String::new(),
            "error: the server doesn't have a resource type \"ingress\"\n".to_owned()
        )
    );
    assert_eq!(explain(&["po.spec"]).0, 0);
}
