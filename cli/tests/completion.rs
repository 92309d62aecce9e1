//! `peapod completion bash|zsh|fish`: each script loaded into the real
//! shell, which then completes a verb and a flag. No root needed, but a
//! missing shell fails the test under `PEAPOD_REQUIRE_ROOT=1` (CI installs
//! bash, zsh and fish) instead of skipping it.

#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::process::Command;

use common::peapod;

const EXE: &str = env!("CARGO_BIN_EXE_peapod");

/// Whether `shell` runs on this host; a test without it is skipped, or
/// fails under `PEAPOD_REQUIRE_ROOT=1`.
fn shell_present(test: &str, shell: &str) -> bool {
    let present = Command::new(shell)
        .args(["-c", "exit 0"])
        .status()
        .is_ok_and(|s| s.success());
    peapod_testkit::require_host(test, shell, present)
}

/// The lines `shell -c script` printed; it must succeed.
fn lines_of(shell: &str, script: &str) -> Vec<String> {
    let out = Command::new(shell).arg("-c").arg(script).output().unwrap();
    assert!(out.status.success(), "{shell}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// What bash's completion of `words` (the last one being completed)
/// offers, with the script `peapod completion bash` printed loaded.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let script = format!(
        "source <('{EXE}' completion bash) && COMP_WORDS=({}) && COMP_CWORD={cword} && _peapod peapod '{}' '{}' && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        quoted.join(" "),
        words[cword],
        words[cword - 1]
    );
    lines_of("bash", &script)
}

/// What fish offers for the command line `line` (`complete -C`), with the
/// script `peapod completion fish` printed sourced: the candidates, each
/// without its description.
fn fish_completes(line: &str) -> Vec<String> {
    let script = format!("'{EXE}' completion fish | source; complete -C '{line}'");
    lines_of("fish", &script)
        .into_iter()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect()
}

/// zsh's completion works only in its line editor, on a terminal: an
/// interactive `zsh -f` runs on a pseudo-terminal of the `zsh/zpty`
/// module, with compinit, the script `peapod completion zsh` printed
/// sourced, and `compadd` wrapped so that each match it is given (the
/// ones that fit what is typed, `compadd -O`) is printed as
/// `match:<word>` on a line of its own. The words `$1` are typed, then
/// Tab; the shell exits once the completion is done (`comppostfuncs`),
/// or at the `exit` typed after, should no completion run.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PS1=''; autoload -Uz compinit; compinit -u -D"
zpty -w z "source <('$0' completion zsh)"
zpty -w z 'compadd() {
  setopt localoptions extendedglob
  local w; for w in "$@"; do
    [[ $w == -- ]] && break
    if [[ $w == -[a-zA-Z]#[OAD]* ]]; then builtin compadd "$@"; return; fi
  done
  local -a got; builtin compadd -O got "$@"; print -rl -- "" ${got/#/match:}
}'
zpty -w z 'comppostfuncs=(exit); bindkey "^I" complete-word'
zpty -w -n z "$1"$'\t'
zpty -w z $'\nexit'
while zpty -r z line; do print -r -- ${line%$'\r'}; done
"#;

/// What zsh offers when Tab is pressed after `line` ([`ZSH_DRIVER`]).
fn zsh_completes(line: &str) -> Vec<String> {
    let out = Command::new("zsh")
        .args(["-f", "-c", ZSH_DRIVER, EXE, line])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("match:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn completion_was_missing() {
    assert_eq!(bash_completes(&["peapod", "del"]), ["delete"]);
    assert_eq!(bash_completes(&["peapod", "delete", "--wa"]), ["--wait"]);
    let shells: Vec<String> = bash_completes(&["peapod", "completion", ""])
        .into_iter()
        .filter(|w| !w.starts_with('-'))
        .collect();
    assert_eq!(shells, ["bash", "zsh", "fish"]);
    let (code, _, err) = peapod(&["completion", "powershell"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value 'powershell'"), "{err}");
}

#[test]
fn zsh_completion_completes_a_verb_and_a_flag_in_zsh() {
    if !shell_present("zsh_completion", "zsh") {
        return;
    }
    let (code, script, _) = peapod(&["completion", "zsh"]);
    assert_eq!(code, 0);
    assert!(script.starts_with("#compdef peapod\n"), "{script}");
    assert_eq!(zsh_completes("peapod del"), ["delete"]);
    assert_eq!(zsh_completes("peapod delete --wa"), ["--wait"]);
    let mut shells = zsh_completes("peapod completion ");
    shells.sort();
    assert_eq!(shells, ["bash", "fish", "zsh"]);
}

#[test]
fn fish_completion_completes_a_verb_and_a_flag_in_fish() {
    if !shell_present("fish_completion", "fish") {
        return;
    }
    assert_eq!(fish_completes("peapod del"), ["delete"]);
    assert_eq!(fish_completes("peapod delete --wa"), ["--wait"]);
    let mut shells = fish_completes("peapod completion ");
    shells.sort();
    assert_eq!(shells, ["bash", "fish", "zsh"]);
}
