//! Hashed credentials (argon2id PHC strings) for Basic users and bearer tokens, plain ones
//! beside them, wrong ones refused, the cache of verified credentials bounded, and the
//! caller's identity reaching the broker (checklist A4: every request authenticated, 401 otherwise).

use std::sync::{Arc, Mutex};

use osb_server_mini::auth::{AuthRequest, BasicAuth, BearerTokens, Decision, hash_password};
use osb_server_mini::reply::{Deprovisioned, Provisioned};
use osb_server_mini::request::DeprovisionRequest;
use osb_server_mini::types::{Catalog, ProvisionRequest, ServiceOffering, ServicePlan};
use osb_server_mini::{Broker, BrokerError, RequestContext, Running, ServeError, Server};

/// Records the caller of every provision.
#[derive(Clone, Default)]
struct Recording {
    callers: Arc<Mutex<Vec<String>>>,
}

impl Broker for Recording {
    fn catalog(&self) -> Catalog {
        Catalog::new(vec![ServiceOffering::new(
            "svc",
            "auth",
            "A service",
            vec![ServicePlan::new("plan", "default", "The plan")],
        )])
    }
    async fn provision(&self, ctx: &RequestContext, _: ProvisionRequest) -> Result<Provisioned, BrokerError> {
        let caller = ctx.caller().map(ToString::to_string).unwrap_or_default();
        self.callers.lock().unwrap().push(caller);
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

const BODY: &str = r#"{"service_id":"svc","plan_id":"plan","organization_guid":"o","space_guid":"s"}"#;

async fn provision(running: &Running, id: &str, auth: &str) -> u16 {
    reqwest::Client::new()
        .put(format!("{}/v2/service_instances/{id}", running.url()))
        .header("Authorization", auth)
        .header("X-Broker-API-Version", "2.17")
        .header("Content-Type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn a4_hashed_and_plain_basic_users_wrong_ones_refused_and_the_caller_reaches_the_broker() {
    let broker = Recording::default();
    let running = Server::new(broker.clone())
        .basic_auth("dev", "plain-pw")
        .basic_auth_hash("cf", &hash_password("vault-pw"))
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    assert_eq!(provision(&running, "i-1", &basic("cf", "vault-pw")).await, 201);
    assert_eq!(provision(&running, "i-2", &basic("dev", "plain-pw")).await, 201);
    for wrong in [
        basic("cf", "vault-PW"),
        basic("cf", "plain-pw"),
        basic("dev", "vault-pw"),
        basic("nobody", "vault-pw"),
        basic("cf", ""),
        "Bearer vault-pw".to_owned(),
        "Basic !!!".to_owned(),
    ] {
        assert_eq!(provision(&running, "i-x", &wrong).await, 401, "{wrong}");
    }
    // The hash string itself is not a password.
    let phc = hash_password("other");
    assert_eq!(provision(&running, "i-x", &basic("cf", &phc)).await, 401);
    assert_eq!(
        *broker.callers.lock().unwrap(),
        ["basic:cf", "basic:dev"],
        "the caller reaches RequestContext::caller; refused requests never reach the broker"
    );
}

#[test]
fn a4_the_slow_hash_runs_once_per_credential_and_the_cache_is_bounded() {
    let phcs: Vec<String> = (0..3).map(|i| hash_password(&format!("pw-{i}"))).collect();
    let mut auth = BasicAuth::default().cache_capacity(2);
    for (i, phc) in phcs.iter().enumerate() {
        auth = auth.user_hash(format!("u{i}"), phc).unwrap();
    }
    use osb_server_mini::auth::Authenticator as _;
    let header = |i: usize, pw: &str| basic(&format!("u{i}"), pw);
    assert!(auth.authenticate(Some(&header(0, "pw-0"))));
    assert!(auth.authenticate(Some(&header(0, "pw-0"))));
    assert!(auth.authenticate(Some(&header(0, "pw-0"))));
    assert_eq!(auth.hash_verifications(), 1, "verified once, then from the cache");
    assert_eq!(auth.cached_credentials(), 1);
    // A wrong password is never cached: each attempt pays the hash.
    assert!(!auth.authenticate(Some(&header(0, "wrong"))));
    assert!(!auth.authenticate(Some(&header(0, "wrong"))));
    assert_eq!(auth.hash_verifications(), 3);
    assert_eq!(auth.cached_credentials(), 1);
    // Three users through a cache of two: it holds two, the oldest is verified again.
    assert!(auth.authenticate(Some(&header(1, "pw-1"))));
    assert!(auth.authenticate(Some(&header(2, "pw-2"))));
    assert_eq!(auth.cached_credentials(), 2);
    assert_eq!(auth.hash_verifications(), 5);
    assert!(auth.authenticate(Some(&header(0, "pw-0"))));
    assert_eq!(auth.hash_verifications(), 6, "u0 was forgotten first");
    assert!(auth.authenticate(Some(&header(2, "pw-2"))));
    assert_eq!(auth.hash_verifications(), 6, "u2 is still cached");
    assert_eq!(auth.cached_credentials(), 2);
    // An unknown username pays the hash too (its time does not reveal which names exist).
    assert!(!auth.authenticate(Some(&basic("nobody", "pw-0"))));
    assert_eq!(auth.hash_verifications(), 7);
    assert_eq!(auth.cached_credentials(), 2);
    // Debug shows usernames only.
    let debug = format!("{auth:?}");
    assert!(
        debug.contains("u0") && !debug.contains("argon2") && !debug.contains("pw-"),
        "{debug}"
    );
}

#[tokio::test]
async fn a4_several_bearer_tokens_plain_and_hashed_name_their_caller() {
    let broker = Recording::default();
    let tokens = BearerTokens::new()
        .token("ci", "ci-token")
        .token_hash("cloud-controller", &hash_password("cc-token"))
        .unwrap()
        .token_hash("operator", &hash_password("op-token"))
        .unwrap();
    let running = Server::new(broker.clone())
        .async_authenticator(tokens.clone())
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    assert_eq!(provision(&running, "i-1", "Bearer op-token").await, 201);
    assert_eq!(provision(&running, "i-2", "Bearer cc-token").await, 201);
    assert_eq!(provision(&running, "i-3", "bearer ci-token").await, 201);
    let before = tokens.hash_verifications();
    assert_eq!(provision(&running, "i-4", "Bearer op-token").await, 201);
    assert_eq!(
        tokens.hash_verifications(),
        before,
        "a verified token comes from the cache"
    );
    for wrong in ["Bearer nope", "Bearer ", "Basic b3A6b3AtdG9rZW4=", "op-token"] {
        assert_eq!(provision(&running, "i-x", wrong).await, 401, "{wrong}");
    }
    let res = reqwest::Client::new()
        .get(format!("{}/v2/catalog", running.url()))
        .header("X-Broker-API-Version", "2.17")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], r#"Bearer realm="osb""#);
    assert_eq!(
        *broker.callers.lock().unwrap(),
        [
            "bearer:operator",
            "bearer:cloud-controller",
            "bearer:ci",
            "bearer:operator"
        ]
    );
}

/// A request head carrying this `Authorization` value.
fn head(authorization: &str) -> http::request::Parts {
    http::Request::get("/v2/catalog")
        .header("Authorization", authorization)
        .body(())
        .unwrap()
        .into_parts()
        .0
}

#[test]
fn a4_plain_and_cached_credentials_are_decided_without_waiting_a_slow_hash_waits() {
    let auth = BasicAuth::new("plain", "pw")
        .user_hash("hashed", &hash_password("h-pw"))
        .unwrap();
    let now = |value: &str| {
        osb_server_mini::auth::AsyncAuthenticator::decide_now(&auth, AuthRequest::new(&head(value)))
    };
    assert_eq!(
        now(&basic("plain", "pw")),
        Decision::Accepted(osb_server_mini::auth::Caller::new("plain", "basic"))
    );
    assert_eq!(now("Bearer x"), Decision::Refused);
    let plain_only = BasicAuth::new("plain", "pw");
    assert_eq!(
        osb_server_mini::auth::AsyncAuthenticator::decide_now(
            &plain_only,
            AuthRequest::new(&head(&basic("plain", "wrong")))
        ),
        Decision::Refused,
        "with no hashed user, a wrong password is refused at once"
    );
    assert_eq!(now(&basic("hashed", "h-pw")), Decision::Wait, "not verified yet");
    assert_eq!(
        now(&basic("nobody", "h-pw")),
        Decision::Wait,
        "the decoy hash is paid too"
    );
    assert_eq!(
        now(&basic("plain", "wrong")),
        Decision::Wait,
        "so is a wrong plain password"
    );
    assert_eq!(auth.hash_verifications(), 0, "deciding now never hashes");
    assert!(osb_server_mini::auth::Authenticator::authenticate(
        &auth,
        Some(&basic("hashed", "h-pw"))
    ));
    assert_eq!(
        now(&basic("hashed", "h-pw")),
        Decision::Accepted(osb_server_mini::auth::Caller::new("hashed", "basic"))
    );

    let tokens = BearerTokens::new()
        .token("ci", "ci-token")
        .token_hash("cc", &hash_password("cc-token"))
        .unwrap();
    let now = |value: &str| {
        osb_server_mini::auth::AsyncAuthenticator::decide_now(&tokens, AuthRequest::new(&head(value)))
    };
    assert_eq!(
        now("Bearer ci-token"),
        Decision::Accepted(osb_server_mini::auth::Caller::new("ci", "bearer"))
    );
    assert_eq!(now("Basic Y2k6Y2ktdG9rZW4="), Decision::Refused);
    assert_eq!(now("Bearer cc-token"), Decision::Wait);
}

#[test]
fn a4_a_bearer_cache_miss_costs_every_hashed_token_whichever_matches() {
    let tokens = BearerTokens::new()
        .token_hash("first", &hash_password("t-1"))
        .unwrap()
        .token_hash("second", &hash_password("t-2"))
        .unwrap();
    let identify =
        |t: &str| osb_server_mini::auth::Authenticator::identify(&tokens, Some(&format!("Bearer {t}")));
    assert_eq!(identify("t-1").unwrap().name(), "first");
    assert_eq!(
        tokens.hash_verifications(),
        2,
        "a match on the first token still tries the second"
    );
    assert!(identify("wrong").is_none());
    assert_eq!(
        tokens.hash_verifications(),
        4,
        "a wrong token costs the same two hashes"
    );
    assert_eq!(identify("t-1").unwrap().name(), "first");
    assert_eq!(tokens.hash_verifications(), 4, "then from the cache");
}

#[tokio::test]
async fn an_invalid_hash_string_stops_the_server_from_starting() {
    for bad in [
        "",
        "plain-password",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    ] {
        let err = Server::new(Recording::default())
            .basic_auth_hash("cf", bad)
            .spawn("127.0.0.1:0")
            .await
            .unwrap_err();
        assert!(matches!(err, ServeError::InvalidCredential(_)), "{bad}: {err}");
        assert!(!err.to_string().contains("plain-password"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a4_concurrent_requests_with_one_new_credential_pay_one_slow_hash() {
    let auth = Arc::new(
        BasicAuth::default()
            .user_hash("cf", &hash_password("from-a-vault"))
            .unwrap(),
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let auth = Arc::clone(&auth);
            tokio::spawn(async move {
                let head = head(&basic("cf", "from-a-vault"));
                osb_server_mini::auth::AsyncAuthenticator::authenticate(&*auth, AuthRequest::new(&head))
                    .await
                    .map(|c| c.name().to_owned())
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().as_deref(), Some("cf"));
    }
    assert_eq!(
        auth.hash_verifications(),
        1,
        "the eight requests waited for one verification"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a4_concurrent_requests_with_one_new_bearer_token_pay_one_verification() {
    let tokens = Arc::new(
        BearerTokens::new()
            .token_hash("first", &hash_password("t-1"))
            .unwrap()
            .token_hash("second", &hash_password("t-2"))
            .unwrap(),
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let tokens = Arc::clone(&tokens);
            tokio::spawn(async move {
                let head = head("Bearer t-2");
                osb_server_mini::auth::AsyncAuthenticator::authenticate(&*tokens, AuthRequest::new(&head))
                    .await
                    .map(|c| c.name().to_owned())
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().as_deref(), Some("second"));
    }
    assert_eq!(
        tokens.hash_verifications(),
        2,
        "one verification (against both hashed tokens) for the eight requests"
    );
}
