//! Binding rotation helpers (2.17): rotate a binding into a successor, and do it when it is due.
//!
//! A binding whose plan is `binding_rotatable` can be replaced by a successor with new
//! credentials: a bind of a new binding id naming the old one as `predecessor_binding_id`
//! (B60). Both stay valid until the old one expires or is unbound, so the Platform can move
//! its applications to the new credentials and unbind the old binding afterwards.
//!
//! - [`BindingApi::rotate_into`]: rotate now.
//! - [`BindingApi::renew_if_due`]: rotate only when the binding's `metadata.renew_before`
//!   has been reached (B61), given the metadata the broker sent and the current time.
//!
//! ```no_run
//! use osb_client::types::Timestamp;
//! # async fn renew(client: osb_client::Client, stored: osb_client::types::BindResponse) -> osb_client::Result<()> {
//! let current = client.instance("inst-1").binding("bind-1");
//! let renewed = current
//!     .renew_if_due(stored.metadata.as_ref(), Timestamp::now(), "bind-2", "svc", "plan")
//!     .await?;
//! if let Some(rotated) = renewed {
//!     println!("new credentials in {}", rotated.successor.id());
//!     // move the applications over, then: current.unbind("svc", "plan").await?;
//! }
//! # Ok(()) }
//! ```

use osb_types::binding::BindingMetadata;
use osb_types::{BindingId, PlanId, RotateBindingRequest, ServiceId, Timestamp};

use crate::{BindOutcome, BindingApi, Error, Result};

/// A rotation the broker accepted: the successor binding and the broker's answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rotated {
    /// The new binding (its endpoints: `get`, `wait`, `unbind`, ...).
    pub successor: BindingApi,
    /// The broker's answer to the rotation (`Created`, or `Accepted` for an asynchronous
    /// one: [`wait`](BindingApi::wait) on `successor`, then [`get`](BindingApi::get) the
    /// credentials).
    pub outcome: BindOutcome,
}

impl BindingApi {
    /// Rotates this binding: `PUT .../service_bindings/:successor` with
    /// `predecessor_binding_id` = this binding's id (2.17). This binding stays valid until it
    /// is unbound or expires. The ids of the instance's offering and plan make orphan
    /// mitigation possible if the rotation fails (they are not sent in the body).
    ///
    /// The successor uses the client's `accepts_incomplete` setting.
    ///
    /// # Errors
    /// As [`rotate_with_ids`](Self::rotate_with_ids): [`Error::Unsupported`] before 2.17,
    /// [`Error::InvalidRequest`] for a successor id that is empty or this binding's id, and
    /// the broker's refusal (e.g. `400` for a plan that is not `binding_rotatable`).
    pub async fn rotate_into(
        &self,
        successor: impl Into<BindingId>,
        service_id: impl Into<ServiceId>,
        plan_id: impl Into<PlanId>,
    ) -> Result<Rotated> {
        let successor = self
            .res
            .client
            .instance(self.instance_id().clone())
            .binding(successor);
        let request = RotateBindingRequest::new(self.id().clone());
        let outcome = successor.rotate_with_ids(&request, service_id, plan_id).await?;
        Ok(Rotated { successor, outcome })
    }

    /// Rotates this binding into `successor` if it is due at `now` (B61): when
    /// `metadata.renew_before` has been reached. `Ok(None)` when it is not due, or when the
    /// broker sent no `renew_before` and the binding has not expired (nothing is sent).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the binding has already expired at `now` (B60: only a
    /// non-expired binding can be rotated; create a new binding instead); otherwise as
    /// [`rotate_into`](Self::rotate_into).
    pub async fn renew_if_due(
        &self,
        metadata: Option<&BindingMetadata>,
        now: Timestamp,
        successor: impl Into<BindingId>,
        service_id: impl Into<ServiceId>,
        plan_id: impl Into<PlanId>,
    ) -> Result<Option<Rotated>> {
        let Some(metadata) = metadata.filter(|m| m.renewal_due(now)) else {
            return Ok(None);
        };
        if let Some(at) = metadata.expires_at.filter(|_| metadata.expired(now)) {
            return Err(Error::InvalidRequest(format!(
                "binding {} expired at {at}: an expired binding cannot be rotated, create a new one",
                self.id()
            )));
        }
        self.rotate_into(successor, service_id, plan_id).await.map(Some)
    }
}
