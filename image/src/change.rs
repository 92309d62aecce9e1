//! The Dockerfile instructions `image import --change` applies to the new
//! image's config, as `podman import --change` does: `CMD`, `ENTRYPOINT`,
//! `ENV`, `WORKDIR`, `USER`, `EXPOSE`, `STOPSIGNAL`, `LABEL`.

use crate::error::{Error, Result};
use crate::oci::ImageConfig;

impl ImageConfig {
    /// Applies one instruction: `CMD ["/bin/sh"]`, `CMD /bin/sh -c x`
    /// (shell form), `ENV A=b`, `WORKDIR /w`... The instruction and its
    /// argument may also be joined by `=` (`CMD=/bin/sh`).
    pub fn apply_change(&mut self, change: &str) -> Result<()> {
        let bad = |reason| Error::InvalidChange {
            change: change.to_string(),
            reason,
        };
        let change = change.trim();
        let split = change
            .find([' ', '=', '\t'])
            .ok_or_else(|| bad("expected INSTRUCTION ARGUMENTS"))?;
        let (instruction, rest) = change.split_at(split);
        let rest = rest[1..].trim();
        match instruction.to_ascii_uppercase().as_str() {
            "CMD" => self.cmd = Some(command(rest).ok_or_else(|| bad("bad JSON array"))?),
            "ENTRYPOINT" => {
                self.entrypoint = Some(command(rest).ok_or_else(|| bad("bad JSON array"))?);
            }
            "ENV" => {
                let pair = match rest.split_once([' ', '=']) {
                    Some((k, v)) if !k.is_empty() => format!("{k}={}", v.trim()),
                    _ => return Err(bad("expected ENV NAME=value")),
                };
                let key = pair.split('=').next().unwrap_or_default().to_string();
                let env = self.env.get_or_insert_with(Vec::new);
                env.retain(|e| e.split('=').next() != Some(key.as_str()));
                env.push(pair);
            }
            "WORKDIR" => self.working_dir = Some(rest.to_string()),
            "USER" => self.user = Some(rest.to_string()),
            "STOPSIGNAL" => self.stop_signal = Some(rest.to_string()),
            "EXPOSE" => {
                let ports = self.exposed_ports.get_or_insert_with(Default::default);
                for p in rest.split_whitespace() {
                    let p = if p.contains('/') {
                        p.to_string()
                    } else {
                        format!("{p}/tcp")
                    };
                    ports.insert(p, serde_json::json!({}));
                }
            }
            "LABEL" => {
                let (k, v) = rest
                    .split_once('=')
                    .ok_or_else(|| bad("expected LABEL key=value"))?;
                self.labels
                    .get_or_insert_with(Default::default)
                    .insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            }
            _ => {
                return Err(bad(
                    "supported: CMD ENTRYPOINT ENV WORKDIR USER EXPOSE STOPSIGNAL LABEL",
                ));
            }
        }
        Ok(())
    }
}

/// A JSON array (exec form), or a string run by `/bin/sh -c` (shell form).
fn command(arg: &str) -> Option<Vec<String>> {
    if arg.starts_with('[') {
        serde_json::from_str(arg).ok()
    } else {
        Some(vec![
            "/bin/sh".to_string(),
            "-c".to_string(),
            arg.to_string(),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_and_shell_forms_and_env() {
        let mut c = ImageConfig::default();
        c.apply_change(r#"CMD ["/bin/sh"]"#).unwrap();
        c.apply_change("ENTRYPOINT=echo hi").unwrap();
        c.apply_change("ENV PATH=/bin").unwrap();
        c.apply_change("ENV PATH=/usr/bin").unwrap();
        c.apply_change("EXPOSE 80 53/udp").unwrap();
        c.apply_change("WORKDIR /srv").unwrap();
        assert_eq!(c.cmd.unwrap(), ["/bin/sh"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "echo hi"]);
        assert_eq!(c.env.unwrap(), ["PATH=/usr/bin"]);
        assert_eq!(c.exposed_ports.unwrap().len(), 2);
        assert_eq!(c.working_dir.as_deref(), Some("/srv"));
        assert!(ImageConfig::default().apply_change("RUN x").is_err());
        assert!(ImageConfig::default().apply_change("CMD [oops").is_err());
    }
}
