//! Opt-in checks of a request against the broker's catalog: known ids, plan changes,
//! context-only updates, bindable plans and binding rotation.
//!
//! The client keeps no state, so it cannot know on its own which plan an instance is on or
//! whether a plan is bindable. A platform that has the catalog calls these before sending;
//! each returns [`Error::InvalidRequest`] with a message naming the catalog flag when the
//! specification forbids the request. The `osb` CLI runs them before every request.
//!
//! ```
//! use osb_client::types::{Catalog, UpdateRequest};
//! let catalog: Catalog = serde_json::from_str(r#"{"services":[{"id":"s","name":"db",
//!     "description":"d","bindable":false,"plans":[{"id":"p1","name":"small","description":"d"},
//!     {"id":"p2","name":"large","description":"d"}]}]}"#).unwrap();
//! let client = osb_client::Client::builder("http://127.0.0.1:1").build().unwrap();
//! let (offering, small) = catalog.plan("s", "p1").unwrap();
//! // plan_updateable defaults to false: a plan change must not be requested ...
//! let change = UpdateRequest::new("s").with_plan("p2");
//! assert!(client.check_update(offering, small, &change).unwrap_err().is_invalid_request());
//! // ... but a parameter update is fine
//! let params = UpdateRequest::new("s").with_parameters(serde_json::json!({"size": 2}));
//! assert!(client.check_update(offering, small, &params).is_ok());
//! // bindable is false
//! assert!(client.check_bind(offering, small).is_err());
//! ```

use osb_types::{ApiVersion, Catalog, ProvisionRequest, ServiceOffering, ServicePlan, UpdateRequest};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::instance::is_context_only;
use crate::version::Capability;

fn refuse(message: String) -> Error {
    Error::InvalidRequest(message)
}

fn same_offering(offering: &ServiceOffering, service_id: &str) -> Result<()> {
    if offering.id == service_id {
        Ok(())
    } else {
        Err(refuse(format!(
            "service_id {service_id:?} is not the id of offering {:?} ({})",
            offering.name, offering.id
        )))
    }
}

impl Client {
    /// `service_id` is an offering of `catalog` and `plan_id` a plan of that offering
    /// (matched by id only).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] naming the unknown id.
    pub fn check_provision(&self, catalog: &Catalog, request: &ProvisionRequest) -> Result<()> {
        let offering = catalog.offering(request.service_id.as_str()).ok_or_else(|| {
            refuse(format!(
                "no service offering with id {} in the catalog",
                request.service_id
            ))
        })?;
        if offering.plan(request.plan_id.as_str()).is_none() {
            return Err(refuse(format!(
                "offering {:?} has no plan with id {}",
                offering.name, request.plan_id
            )));
        }
        Ok(())
    }

    /// Checks an update of an instance of `offering` currently on `current_plan`:
    ///
    /// - a plan change (a `plan_id` other than the current plan's) only when the
    ///   effective `plan_updateable` of the current plan is `true` (the plan's value, else the
    ///   offering's, else `false`; brokers older than 2.15 only have the offering flag);
    /// - a context-only update only when the offering declares `allow_context_updates`
    ///   (and the API version is at least 2.15);
    /// - the `plan_id` is a plan of the offering.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] or [`Error::Unsupported`] saying which rule refused it.
    pub fn check_update(
        &self,
        offering: &ServiceOffering,
        current_plan: &ServicePlan,
        request: &UpdateRequest,
    ) -> Result<()> {
        same_offering(offering, request.service_id.as_str())?;
        if let Some(new_plan) = &request.plan_id {
            if offering.plan(new_plan.as_str()).is_none() {
                return Err(refuse(format!(
                    "offering {:?} has no plan with id {new_plan}",
                    offering.name
                )));
            }
            let updateable = if self.api_version() >= ApiVersion::V2_15 {
                offering.plan_is_updateable(current_plan)
            } else {
                offering.plan_updateable.unwrap_or(false)
            };
            if *new_plan != current_plan.id && !updateable {
                return Err(refuse(format!(
                    "plan {:?} of {:?} is not plan_updateable: it cannot be changed to another plan \
                     (parameters can still be updated)",
                    current_plan.name, offering.name
                )));
            }
        }
        if is_context_only(request) {
            self.require(Capability::ContextOnlyUpdate)?;
            if !offering.allows_context_updates() {
                return Err(refuse(format!(
                    "offering {:?} does not declare allow_context_updates: a context-only update \
                     cannot be sent",
                    offering.name
                )));
            }
        }
        Ok(())
    }

    /// a bind only when the effective `bindable` of the plan is `true` (the plan's value,
    /// else the offering's).
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] when the plan is not bindable.
    pub fn check_bind(&self, offering: &ServiceOffering, plan: &ServicePlan) -> Result<()> {
        if offering.plan_is_bindable(plan) {
            Ok(())
        } else {
            Err(refuse(format!(
                "plan {:?} of {:?} is not bindable",
                plan.name, offering.name
            )))
        }
    }

    /// a rotation only when the plan's `binding_rotatable` is `true` (and the API version
    /// is at least 2.17).
    ///
    /// # Errors
    /// [`Error::Unsupported`] before 2.17; [`Error::InvalidRequest`] when the plan is not
    /// `binding_rotatable`.
    pub fn check_rotate(&self, plan: &ServicePlan) -> Result<()> {
        self.require(Capability::BindingRotation)?;
        if plan.is_binding_rotatable() {
            Ok(())
        } else {
            Err(refuse(format!(
                "plan {:?} is not binding_rotatable: its bindings cannot be rotated",
                plan.name
            )))
        }
    }
}
