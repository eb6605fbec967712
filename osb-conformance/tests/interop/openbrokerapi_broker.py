"""A minimal in-memory broker on Python's openbrokerapi (PyPI), written the way the library's
README suggests: a broker we did not write the runtime of, for `osb check` to look at.

Service `pyecho` with plans `small` (synchronous) and `large` (asynchronous, ready after 1 s).
Usage: python3 openbrokerapi_broker.py PORT USER PASSWORD
"""
import sys
import time

from openbrokerapi import api, errors
from openbrokerapi.catalog import ServicePlan
from openbrokerapi.service_broker import (
    Binding,
    BindState,
    DeprovisionServiceSpec,
    LastOperation,
    OperationState,
    ProvisionedServiceSpec,
    ProvisionState,
    Service,
    ServiceBroker,
    UnbindSpec,
    UpdateServiceSpec,
)

SERVICE = "0f8c8c34-7a0e-4f55-9d7b-2a6f1f6e5a01"
SMALL = "7d3a4f57-6f2c-4a63-8a32-cc2b6a3b4c02"
LARGE = "a1e9b4c2-3f0d-4e6b-9b1a-5c7d8e9f0a03"
DELAY = 1.0


class PyEcho(ServiceBroker):
    def __init__(self):
        self.instances = {}  # id -> {"plan": ..., "params": ..., "ready_at": t, "deleting_at": t}
        self.bindings = {}  # (instance, binding) -> params

    def catalog(self):
        return Service(
            id=SERVICE,
            name="pyecho",
            description="Echo broker on openbrokerapi",
            bindable=True,
            plan_updateable=False,
            plans=[
                ServicePlan(id=SMALL, name="small", description="Synchronous"),
                ServicePlan(id=LARGE, name="large", description="Asynchronous"),
            ],
        )

    def provision(self, instance_id, details, async_allowed, **kwargs):
        existing = self.instances.get(instance_id)
        if existing:
            if existing["plan"] == details.plan_id and existing["params"] == details.parameters:
                return ProvisionedServiceSpec(state=ProvisionState.IDENTICAL_ALREADY_EXISTS)
            raise errors.ErrInstanceAlreadyExists()
        if details.plan_id == LARGE:
            if not async_allowed:
                raise errors.ErrAsyncRequired()
            self.instances[instance_id] = {
                "plan": details.plan_id,
                "params": details.parameters,
                "ready_at": time.time() + DELAY,
            }
            return ProvisionedServiceSpec(state=ProvisionState.IS_ASYNC, operation="provision")
        self.instances[instance_id] = {"plan": details.plan_id, "params": details.parameters, "ready_at": 0}
        return ProvisionedServiceSpec(state=ProvisionState.SUCCESSFUL_CREATED)

    def update(self, instance_id, details, async_allowed, **kwargs):
        if instance_id not in self.instances:
            raise errors.ErrInstanceDoesNotExist()
        return UpdateServiceSpec(is_async=False)

    def deprovision(self, instance_id, details, async_allowed, **kwargs):
        inst = self.instances.get(instance_id)
        if inst is None:
            raise errors.ErrInstanceDoesNotExist()
        if inst["plan"] == LARGE:
            if not async_allowed:
                raise errors.ErrAsyncRequired()
            inst["deleting_at"] = time.time() + DELAY
            return DeprovisionServiceSpec(is_async=True, operation="deprovision")
        del self.instances[instance_id]
        return DeprovisionServiceSpec(is_async=False)

    def last_operation(self, instance_id, operation_data, **kwargs):
        inst = self.instances.get(instance_id)
        if inst is None:
            raise errors.ErrInstanceDoesNotExist()
        now = time.time()
        if "deleting_at" in inst:
            if now >= inst["deleting_at"]:
                del self.instances[instance_id]
                raise errors.ErrInstanceDoesNotExist()
            return LastOperation(OperationState.IN_PROGRESS, "deleting")
        if now >= inst["ready_at"]:
            return LastOperation(OperationState.SUCCEEDED, "ready")
        return LastOperation(OperationState.IN_PROGRESS, "creating")

    def bind(self, instance_id, binding_id, details, async_allowed, **kwargs):
        key = (instance_id, binding_id)
        if key in self.bindings:
            if self.bindings[key] == details.parameters:
                return Binding(state=BindState.IDENTICAL_ALREADY_EXISTS, credentials={"uri": "echo://" + binding_id})
            raise errors.ErrBindingAlreadyExists()
        self.bindings[key] = details.parameters
        return Binding(credentials={"uri": "echo://" + binding_id})

    def unbind(self, instance_id, binding_id, details, async_allowed, **kwargs):
        if self.bindings.pop((instance_id, binding_id), "missing") == "missing":
            raise errors.ErrBindingDoesNotExist()
        return UnbindSpec(is_async=False)


if __name__ == "__main__":
    port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    api.serve(PyEcho(), api.BrokerCredentials(user, password), host="127.0.0.1", port=port)
