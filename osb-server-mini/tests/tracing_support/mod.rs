//! What the tracing tests share: a broker that logs from inside its provision, and a writer
//! that captures what the subscriber writes.

use std::io::Write;
use std::sync::{Arc, Mutex};

use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext};
use tracing_subscriber::fmt::MakeWriter;

pub(crate) struct Traced;

impl Broker for Traced {
    fn catalog(&self) -> Catalog {
        Catalog::new(vec![ServiceOffering::new(
            "svc",
            "traced",
            "A service",
            vec![ServicePlan::new("plan", "default", "The plan")],
        )])
    }
    async fn provision(&self, _: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        tracing::info!("inside the broker");
        Ok(Provisioned::done())
    }
    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
}

/// Everything the subscriber writes.
#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}
