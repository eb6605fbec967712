//! Every public future of `osb-client` is `Send`, so platform code can fan calls out over
//! tasks (`tokio::spawn`, `JoinSet`) without a `LocalSet`.
//!
//! `every_public_future_is_send` fails to *compile* when one is not; the other tests spawn each
//! operation on a multi-threaded runtime against the real echo broker.

use std::time::Duration;

use osb_client::types::operation::LastOperationParams;
use osb_client::types::{BindRequest, ProvisionRequest, RotateBindingRequest, UpdateRequest};
use osb_client::{Client, WaitOptions, WaitOutcome};
use osb_examples::echo_ids::{LARGE, SERVICE, SMALL};
use tokio::task::JoinSet;

fn assert_send<T: Send>(_: &T) {}

/// Never run: only type-checked. Each line names one public `async fn`.
#[allow(dead_code, clippy::too_many_lines)]
fn every_public_future_is_send(client: &Client) {
    let instance = client.instance("i");
    let binding = instance.binding("b");
    let provision = ProvisionRequest::new("s", "p").with_org_space("o", "s");
    let update = UpdateRequest::new("s");
    let bind = BindRequest::new("s", "p");
    let rotate = RotateBindingRequest::new("old");
    let lo = LastOperationParams::default();
    let opts = WaitOptions::default();
    let pending = osb_client::PendingOperation::new(osb_client::OperationKind::Provision, None);

    assert_send(&client.catalog());
    assert_send(&client.negotiate());

    assert_send(&instance.provision(&provision));
    assert_send(&instance.provision_with(&provision, &Default::default()));
    assert_send(&instance.update(&update));
    assert_send(&instance.update_with(&update, &Default::default()));
    assert_send(&instance.deprovision("s", "p"));
    assert_send(&instance.orphan_mitigate("s", "p"));
    assert_send(&instance.get());
    assert_send(&instance.get_opt());
    assert_send(&instance.get_with(&Default::default()));
    assert_send(&instance.last_operation(&lo));
    assert_send(&instance.wait(&pending));
    assert_send(&instance.wait_with(&pending, &opts));
    assert_send(&instance.deprovision_after_unbinding(["b1", "b2"], "s", "p", &opts));

    assert_send(&binding.bind(&bind));
    assert_send(&binding.bind_with(&bind, &Default::default()));
    assert_send(&binding.rotate(&rotate));
    assert_send(&binding.rotate_with_ids(&rotate, "s", "p"));
    assert_send(&binding.unbind("s", "p"));
    assert_send(&binding.orphan_mitigate("s", "p"));
    assert_send(&binding.get());
    assert_send(&binding.get_opt());
    assert_send(&binding.get_with(&Default::default()));
    assert_send(&binding.last_operation(&lo));
    assert_send(&binding.wait(&pending));
    assert_send(&binding.wait_with(&pending, &opts));
}

async fn echo() -> osb_server_mini::Running {
    osb_server_mini::Server::new(osb_examples::echo::EchoBroker::new(
        "http://dash.test",
        Duration::from_millis(50),
    ))
    .basic_auth("admin", "secret")
    .spawn("127.0.0.1:0")
    .await
    .expect("the echo broker starts")
}

fn client(url: &str) -> Client {
    Client::builder(url)
        .basic_auth("admin", "secret")
        .build()
        .unwrap()
}

fn fast() -> WaitOptions {
    WaitOptions::default()
        .interval(Duration::from_millis(20))
        .backoff(1.0)
}

/// Spawns each operation of a full lifecycle, one `tokio::spawn` per call, on both plans.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_runs_in_a_spawned_task() {
    let broker = echo().await;
    let client = client(&broker.url());
    for (plan, name) in [(SMALL, "small"), (LARGE, "large")] {
        let id = format!("spawned-{name}");
        let c = client.clone();
        let catalog = tokio::spawn(async move { c.catalog().await })
            .await
            .unwrap()
            .unwrap();
        assert!(catalog.plan_by_name("echo", name).is_some());

        let inst = client.instance(id.as_str());
        let i = inst.clone();
        let provision = tokio::spawn(async move {
            let req = ProvisionRequest::new(SERVICE, plan).with_org_space("org-1", "space-1");
            let out = i.provision(&req).await?;
            i.wait_with(&out, &fast()).await.map(|w| (out, w))
        });
        let (out, waited) = provision.await.unwrap().unwrap();
        assert_eq!(out.is_accepted(), plan == LARGE, "{out:?}");
        assert!(
            matches!(waited, WaitOutcome::Completed | WaitOutcome::Succeeded(_)),
            "{waited:?}"
        );

        let i = inst.clone();
        let update = tokio::spawn(async move {
            let out = i
                .update(&UpdateRequest::new(SERVICE).with_parameters(serde_json::json!({"x": 1})))
                .await?;
            i.wait(&out).await
        });
        update.await.unwrap().unwrap();

        let i = inst.clone();
        let fetched = tokio::spawn(async move { i.get().await }).await.unwrap().unwrap();
        assert_eq!(fetched.plan_id.as_ref().map(|p| p.as_str()), Some(plan));

        let b = inst.binding("b-1");
        let bind = tokio::spawn(async move {
            let out = b.bind(&BindRequest::new(SERVICE, plan)).await?;
            let credentials = match out.credentials() {
                Some(c) => Some(c.clone()),
                None => {
                    b.wait_with(&out, &fast()).await?;
                    b.get().await?.credentials
                }
            };
            Ok::<_, osb_client::Error>(credentials)
        });
        let credentials = bind.await.unwrap().unwrap().expect("echo credentials");
        assert_eq!(credentials["uri"], format!("echo://{id}/b-1"));

        let b = inst.binding("b-1");
        let unbind = tokio::spawn(async move {
            let out = b.unbind(SERVICE, plan).await?;
            b.wait_with(&out, &fast()).await
        });
        unbind.await.unwrap().unwrap();

        let i = inst.clone();
        let deprovision = tokio::spawn(async move {
            let out = i.deprovision(SERVICE, plan).await?;
            i.wait_with(&out, &fast()).await
        });
        deprovision.await.unwrap().unwrap();

        // orphan mitigation on demand, spawned too: the instance is already gone
        let i = inst.clone();
        let om = tokio::spawn(async move { i.orphan_mitigate(SERVICE, plan).await })
            .await
            .unwrap();
        assert!(om.succeeded(), "{om}");
        let i = inst.clone();
        let gone = tokio::spawn(async move { i.get_opt().await })
            .await
            .unwrap()
            .unwrap();
        assert!(gone.is_none(), "the broker no longer has {id}");
    }
}

/// The README's fan-out: 20 provisions at once from a `JoinSet`, each a separate task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_provisions_with_a_join_set() {
    let broker = echo().await;
    let client = client(&broker.url());
    let mut tasks = JoinSet::new();
    for n in 0..20 {
        let client = client.clone();
        tasks.spawn(async move {
            let instance = client.instance(format!("fan-{n}"));
            let plan = if n % 2 == 0 { SMALL } else { LARGE };
            let request = ProvisionRequest::new(SERVICE, plan).with_org_space("org-1", "space-1");
            let outcome = instance.provision(&request).await?;
            instance.wait_with(&outcome, &fast()).await?;
            Ok::<_, osb_client::Error>(n)
        });
    }
    let mut done: Vec<i32> = tasks.join_all().await.into_iter().map(Result::unwrap).collect();
    done.sort_unstable();
    assert_eq!(done, (0..20).collect::<Vec<_>>());
    for n in 0..20 {
        let fetched = client.instance(format!("fan-{n}")).get().await.unwrap();
        let plan = if n % 2 == 0 { SMALL } else { LARGE };
        assert_eq!(
            fetched.plan_id.as_ref().map(|p| p.as_str()),
            Some(plan),
            "fan-{n}"
        );
    }
}
