//! The file broker: each Service Instance is a file under a data directory, and each binding
//! hands out that file's path (the minimal service of the Python cf-service-broker project).
//!
//! It shows typed parameters: the `standard` plan names [`FileParams`] as its provision
//! parameters, so the catalog advertises their JSON schema (draft-04) and the runtime rejects
//! parameters that break it with 400. `provision` takes a fourth argument,
//! `params: FileParams`: `#[broker]` decodes the parameters into it first. [`FileParams`]
//! checks what the schema cannot say (the content fits in `max_bytes`) as it is decoded, so
//! parameters that fail the check get a 400 with serde's message before this code runs.

use std::path::{Path, PathBuf};

use osb_server_mini::reply::{Bound, Deprovisioned, Provisioned, Unbound};
use osb_server_mini::request::{DeprovisionRequest, UnbindRequest};
use osb_server_mini::types::{BindRequest, ProvisionRequest};
use osb_server_mini::{BrokerError, Offering, Plan, RequestContext, broker};
use serde_json::json;

/// Provision parameters of the `standard` plan, valid by construction: decoding fails unless
/// `content` fits in `max_bytes`.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(try_from = "RawFileParams")]
pub struct FileParams {
    /// What the file initially holds.
    pub content: String,
    /// Largest content accepted, in bytes (1 to 65536, default 65536).
    pub max_bytes: u32,
}

/// The parameters as sent: what the advertised schema describes.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "FileParams")]
struct RawFileParams {
    /// What the file initially holds.
    #[serde(default)]
    content: String,
    /// Largest content accepted, in bytes (at most 65536).
    #[schemars(range(min = 1, max = 65536))]
    max_bytes: Option<u32>,
}

impl TryFrom<RawFileParams> for FileParams {
    type Error = String;

    fn try_from(raw: RawFileParams) -> Result<Self, String> {
        let max_bytes = raw.max_bytes.unwrap_or(65536);
        if raw.content.len() > max_bytes as usize {
            return Err(format!(
                "`content` is {} bytes, more than `max_bytes` ({max_bytes})",
                raw.content.len()
            ));
        }
        Ok(Self {
            content: raw.content,
            max_bytes,
        })
    }
}

/// The `file` offering.
#[derive(Debug, Offering)]
#[osb(
    id = "3b9f6d2e-8a41-4c7b-b0e5-0d2f6a1c9e10",
    name = "file",
    description = "A file on the broker's disk per instance",
    bindable,
    instances_retrievable,
    bindings_retrievable,
    tags("file", "example"),
    plans(Standard)
)]
pub struct File;

/// The only plan: a file with typed provision parameters.
#[derive(Debug, Plan)]
#[osb(
    id = "5c1e2d3f-4a5b-4c6d-8e7f-901a2b3c4d11",
    name = "standard",
    description = "One file, created with the content you pass",
    provision_params = FileParams
)]
pub struct Standard;

/// The file broker.
#[derive(Debug, Clone)]
pub struct FileBroker {
    dir: PathBuf,
}

impl FileBroker {
    /// A broker keeping its files under `dir` (created if missing).
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// Where an instance's file lives. Ids are opaque strings that may hold `/` or `..`, so
    /// every byte outside `[A-Za-z0-9_-]` is hex-escaped: the name never leaves `dir`.
    #[must_use]
    pub fn path_of(&self, instance_id: &str) -> PathBuf {
        let mut name = String::from("instance-");
        for b in instance_id.bytes() {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                name.push(char::from(b));
            } else {
                name.push_str(&format!("%{b:02X}"));
            }
        }
        name.push_str(".txt");
        self.dir.join(name)
    }

    /// The data directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn io_error(e: std::io::Error) -> BrokerError {
    BrokerError::internal(e)
}

#[broker(catalog(File))]
impl FileBroker {
    async fn provision(
        &self,
        ctx: &RequestContext,
        _req: ProvisionRequest,
        params: FileParams,
    ) -> Result<Provisioned, BrokerError> {
        tokio::fs::write(self.path_of(ctx.instance_id().as_str()), params.content)
            .await
            .map_err(io_error)?;
        Ok(Provisioned::done())
    }

    async fn deprovision(
        &self,
        ctx: &RequestContext,
        _req: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        match tokio::fs::remove_file(self.path_of(ctx.instance_id().as_str())).await {
            Ok(()) => Ok(Deprovisioned::done()),
            // The runtime answers 410 for instances it does not know; a file already gone
            // (removed by hand) is still a successful deprovision.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Deprovisioned::done()),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn bind(&self, ctx: &RequestContext, _req: BindRequest) -> Result<Bound, BrokerError> {
        let path = self.path_of(ctx.instance_id().as_str());
        Ok(Bound::credentials(json!({ "path": path.display().to_string() })))
    }

    async fn unbind(&self, _ctx: &RequestContext, _req: UnbindRequest) -> Result<Unbound, BrokerError> {
        Ok(Unbound::done())
    }
}
