//! What the CLI does to pods, one module a verb or a part of one:
//! [`launch`] (`apply`), [`inspect`] (`get`, `describe`), [`exec`],
//! [`logs`], [`pod_attach`] (`attach`), [`pod_connect`] (`port-forward`),
//! [`pod_update`] (`apply` to a running pod), [`pod_watch`] (`get -w`,
//! `wait`), [`teardown`] (`delete`), [`run_once`] (`run`), [`ephemeral`]
//! (`debug`), [`debug_copy`] (`debug --copy-to`, `debug node/NAME`),
//! [`debug_profile`] (`debug --profile`), [`debug_custom`] (`debug
//! --custom`), and what they
//! read: [`status`], [`events`], [`pod_config`], [`image_use`].

pub mod debug_copy;
pub mod debug_custom;
pub mod debug_profile;
pub mod ephemeral;
pub mod events;
pub mod exec;
pub mod image_use;
pub mod inspect;
pub mod launch;
pub mod logs;
pub mod pod_attach;
pub mod pod_config;
pub mod pod_connect;
pub mod pod_update;
pub mod pod_watch;
pub mod run_once;
pub mod status;
pub mod teardown;
