"""A small broker built on the Python `openbrokerapi` package (PyPI), for osb-cli's interop test.

Run: python3 openbrokerapi_broker.py [USER PASSWORD]
Listens on 127.0.0.1 on a free port and prints `PORT <n>` as its first line of stdout.

Offering `py-kv` (bindable, instances_retrievable) with two plans: `sync` answers at once,
`async` answers 202 and reports `succeeded` on the first last_operation poll. Like every
openbrokerapi broker it answers 400 "Organization and space guid are required." to a
provision without them. Binding credentials echo the organization and space the instance was
provisioned with, so the test can check what was sent.
"""

import logging
import sys

from openbrokerapi import api, errors
from openbrokerapi.catalog import ServicePlan
from openbrokerapi.service_broker import (
    Binding,
    DeprovisionServiceSpec,
    GetInstanceDetailsSpec,
    LastOperation,
    OperationState,
    ProvisionedServiceSpec,
    ProvisionState,
    Service,
    ServiceBroker,
    UnbindSpec,
    UpdateServiceSpec,
)

SERVICE_ID = "5a1d3c2e-7b4f-4e0a-9c6d-py0000000001"
SYNC_PLAN = "5a1d3c2e-7b4f-4e0a-9c6d-py0000000002"
ASYNC_PLAN = "5a1d3c2e-7b4f-4e0a-9c6d-py0000000003"


class KvBroker(ServiceBroker):
    def __init__(self):
        self.instances = {}
        self.bindings = {}

    def catalog(self):
        return Service(
            id=SERVICE_ID,
            name="py-kv",
            description="Key-value store (Python openbrokerapi)",
            bindable=True,
            instances_retrievable=True,
            plans=[
                ServicePlan(id=SYNC_PLAN, name="sync", description="Ready at once"),
                ServicePlan(id=ASYNC_PLAN, name="async", description="Ready after one poll"),
            ],
        )

    def provision(self, instance_id, details, async_allowed, **kwargs):
        if instance_id in self.instances:
            raise errors.ErrInstanceAlreadyExists()
        is_async = details.plan_id == ASYNC_PLAN
        if is_async and not async_allowed:
            raise errors.ErrAsyncRequired()
        self.instances[instance_id] = {
            "service_id": details.service_id,
            "plan_id": details.plan_id,
            "organization_guid": details.organization_guid,
            "space_guid": details.space_guid,
            "parameters": details.parameters or {},
        }
        if is_async:
            return ProvisionedServiceSpec(state=ProvisionState.IS_ASYNC, operation="provisioning")
        return ProvisionedServiceSpec(dashboard_url=f"http://py-kv.test/{instance_id}")

    def get_instance(self, instance_id, **kwargs):
        i = self.instances.get(instance_id)
        if i is None:
            raise errors.ErrInstanceDoesNotExist()
        return GetInstanceDetailsSpec(service_id=i["service_id"], plan_id=i["plan_id"], parameters=i["parameters"])

    def last_operation(self, instance_id, operation_data, **kwargs):
        if instance_id not in self.instances and operation_data == "deprovisioning":
            raise errors.ErrInstanceDoesNotExist()
        return LastOperation(OperationState.SUCCEEDED, f"{operation_data} done")

    def update(self, instance_id, details, async_allowed, **kwargs):
        if instance_id not in self.instances:
            raise errors.ErrInstanceDoesNotExist()
        return UpdateServiceSpec(is_async=False)

    def bind(self, instance_id, binding_id, details, async_allowed, **kwargs):
        i = self.instances.get(instance_id)
        if i is None:
            raise errors.ErrInstanceDoesNotExist()
        if details.plan_id != i["plan_id"] or details.service_id != i["service_id"]:
            raise errors.ErrBadRequest(msg="service_id/plan_id do not match the instance")
        self.bindings[(instance_id, binding_id)] = True
        return Binding(
            credentials={
                "uri": f"kv://{instance_id}/{binding_id}",
                "organization_guid": i["organization_guid"],
                "space_guid": i["space_guid"],
            }
        )

    def unbind(self, instance_id, binding_id, details, async_allowed, **kwargs):
        if self.bindings.pop((instance_id, binding_id), None) is None:
            raise errors.ErrBindingDoesNotExist()
        return UnbindSpec(is_async=False)

    def deprovision(self, instance_id, details, async_allowed, **kwargs):
        i = self.instances.get(instance_id)
        if i is None:
            raise errors.ErrInstanceDoesNotExist()
        if details.plan_id != i["plan_id"]:
            raise errors.ErrBadRequest(msg="plan_id does not match the instance")
        del self.instances[instance_id]
        if i["plan_id"] == ASYNC_PLAN and async_allowed:
            return DeprovisionServiceSpec(is_async=True, operation="deprovisioning")
        return DeprovisionServiceSpec(is_async=False)


def main():
    from flask import Flask
    from werkzeug.serving import make_server

    user, password = (sys.argv[1], sys.argv[2]) if len(sys.argv) > 2 else ("admin", "secret")
    logging.basicConfig(level=logging.WARNING)
    app = Flask("openbrokerapi_broker")
    app.register_blueprint(
        api.get_blueprint(KvBroker(), api.BrokerCredentials(user, password), logging.getLogger("broker"))
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
