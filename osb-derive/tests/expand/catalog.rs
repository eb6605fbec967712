const _: () = {
    #[automatically_derived]
    impl ::osb_server_mini::__private::Offering for Echo {
        const PLAN_PARAMS: &'static [::osb_server_mini::__private::PlanParams] = &[
            ::osb_server_mini::__private::PlanParams::new(
                "echo",
                <Small as ::osb_server_mini::__private::Plan>::NAME,
                <Small as ::osb_server_mini::__private::Plan>::TYPED_PARAMS,
            ),
            ::osb_server_mini::__private::PlanParams::new(
                "echo",
                <Large as ::osb_server_mini::__private::Plan>::NAME,
                <Large as ::osb_server_mini::__private::Plan>::TYPED_PARAMS,
            ),
        ];
        fn offering() -> ::osb_server_mini::__private::ServiceOffering {
            ::osb_server_mini::__private::ServiceOffering {
                id: ::osb_server_mini::__private::ServiceId::from("svc"),
                name: ::std::string::String::from("echo"),
                description: ::std::string::String::from("Echoes"),
                tags: ::osb_server_mini::__private::core::option::Option::Some(
                    ::std::vec![::std::string::String::from("a")],
                ),
                requires: ::osb_server_mini::__private::core::option::Option::Some(
                    ::std::vec![::std::string::String::from("syslog_drain")],
                ),
                bindable: true,
                instances_retrievable: ::osb_server_mini::__private::core::option::Option::Some(
                    true,
                ),
                bindings_retrievable: ::osb_server_mini::__private::core::option::Option::Some(
                    true,
                ),
                allow_context_updates: ::osb_server_mini::__private::core::option::Option::Some(
                    true,
                ),
                metadata: ::osb_server_mini::__private::core::option::Option::Some(::osb_server_mini::__private::OfferingMetadata {
                    display_name: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("Echo"),
                    ),
                    image_url: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("https://i"),
                    ),
                    long_description: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("L"),
                    ),
                    provider_display_name: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("P"),
                    ),
                    documentation_url: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("https://d"),
                    ),
                    support_url: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("https://s"),
                    ),
                    shareable: ::osb_server_mini::__private::core::option::Option::Some(
                        true,
                    ),
                    extra: ::std::iter::Iterator::collect(
                        ::std::iter::IntoIterator::into_iter([
                            (
                                ::std::string::String::from("vendor"),
                                ::osb_server_mini::__private::serde_json::Value::from(
                                    "acme",
                                ),
                            ),
                            (
                                ::std::string::String::from("tier"),
                                ::osb_server_mini::__private::serde_json::Value::from(2i64),
                            ),
                            (
                                ::std::string::String::from("type"),
                                ::osb_server_mini::__private::serde_json::Value::from("db"),
                            ),
                            (
                                ::std::string::String::from("ratio"),
                                ::osb_server_mini::__private::serde_json::Value::from(
                                    -0.5f64,
                                ),
                            ),
                            (
                                ::std::string::String::from("beta"),
                                ::osb_server_mini::__private::serde_json::Value::Bool(false),
                            ),
                            (
                                ::std::string::String::from("regions"),
                                ::osb_server_mini::__private::serde_json::Value::Array(
                                    ::std::vec![
                                        ::osb_server_mini::__private::serde_json::Value::from("eu"),
                                        ::osb_server_mini::__private::serde_json::Value::from("us")
                                    ],
                                ),
                            ),
                        ]),
                    ),
                    ..::osb_server_mini::__private::core::default::Default::default()
                }),
                dashboard_client: ::osb_server_mini::__private::core::option::Option::Some(::osb_server_mini::__private::DashboardClient {
                    id: ::std::string::String::from("c"),
                    secret: ::std::string::String::from("s"),
                    redirect_uri: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("https://r"),
                    ),
                    ..::osb_server_mini::__private::core::default::Default::default()
                }),
                plan_updateable: ::osb_server_mini::__private::core::option::Option::Some(
                    false,
                ),
                plans: ::std::vec![
                    < Small as ::osb_server_mini::__private::Plan > ::plan(), < Large as
                    ::osb_server_mini::__private::Plan > ::plan()
                ],
                ..::osb_server_mini::__private::core::default::Default::default()
            }
        }
        fn plan_policies() -> ::osb_server_mini::__private::Vec<
            (
                ::osb_server_mini::__private::PlanId,
                ::osb_server_mini::__private::PlanPolicy,
            ),
        > {
            ::std::vec![
                (::osb_server_mini::__private::PlanId::from(< Small as
                ::osb_server_mini::__private::Plan > ::ID), < Small as
                ::osb_server_mini::__private::Plan > ::policy()),
                (::osb_server_mini::__private::PlanId::from(< Large as
                ::osb_server_mini::__private::Plan > ::ID), < Large as
                ::osb_server_mini::__private::Plan > ::policy())
            ]
        }
    }
};
const _: () = {
    #[automatically_derived]
    impl ::osb_server_mini::__private::Plan for Large {
        const ID: &'static str = "p";
        const NAME: &'static str = "large";
        const TYPED_PARAMS: ::osb_server_mini::__private::core::option::Option<
            ::osb_server_mini::__private::TypedParams,
        > = ::osb_server_mini::__private::core::option::Option::Some(::osb_server_mini::__private::TypedParams {
            provision: true,
            update: true,
            bind: true,
        });
        fn plan() -> ::osb_server_mini::__private::ServicePlan {
            fn __osb_assert_params<
                T: ::osb_server_mini::__private::serde::de::DeserializeOwned,
            >() {}
            __osb_assert_params::<P>();
            __osb_assert_params::<P>();
            __osb_assert_params::<B>();
            ::osb_server_mini::__private::ServicePlan {
                id: ::osb_server_mini::__private::PlanId::from(
                    <Self as ::osb_server_mini::__private::Plan>::ID,
                ),
                name: ::std::string::String::from(
                    <Self as ::osb_server_mini::__private::Plan>::NAME,
                ),
                description: ::std::string::String::from("Large"),
                metadata: ::osb_server_mini::__private::core::option::Option::Some(::osb_server_mini::__private::PlanMetadata {
                    bullets: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::vec![::std::string::String::from("b")],
                    ),
                    costs: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::vec![
                            ::osb_server_mini::__private::Cost { amount :
                            ::std::iter::Iterator::collect(::std::iter::IntoIterator::into_iter([(::std::string::String::from("usd"),
                            ::osb_server_mini::__private::serde_json::Number::from_f64(1.5)
                            .expect("a finite literal")),
                            (::std::string::String::from("eur"),
                            ::osb_server_mini::__private::serde_json::Number::from(2))])),
                            unit : ::std::string::String::from("MONTHLY"), ..
                            ::osb_server_mini::__private::core::default::Default::default()
                            }
                        ],
                    ),
                    display_name: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("Large"),
                    ),
                    extra: ::std::iter::Iterator::collect(
                        ::std::iter::IntoIterator::into_iter([
                            (
                                ::std::string::String::from("quota"),
                                ::osb_server_mini::__private::serde_json::Value::from(
                                    18446744073709551615u64,
                                ),
                            ),
                            (
                                ::std::string::String::from("floor"),
                                ::osb_server_mini::__private::serde_json::Value::from(
                                    -9223372036854775808i64,
                                ),
                            ),
                        ]),
                    ),
                    ..::osb_server_mini::__private::core::default::Default::default()
                }),
                free: ::osb_server_mini::__private::core::option::Option::Some(false),
                bindable: ::osb_server_mini::__private::core::option::Option::Some(true),
                binding_rotatable: ::osb_server_mini::__private::core::option::Option::Some(
                    true,
                ),
                plan_updateable: ::osb_server_mini::__private::core::option::Option::Some(
                    true,
                ),
                schemas: ::osb_server_mini::__private::core::option::Option::Some(::osb_server_mini::__private::Schemas {
                    service_instance: ::osb_server_mini::__private::core::option::Option::Some(::osb_server_mini::__private::ServiceInstanceSchema {
                        create: ::osb_server_mini::__private::core::option::Option::Some(
                            ::osb_server_mini::__private::InputParametersSchema::new(
                                ::osb_server_mini::__private::osb_types::schema::draft04(
                                    ::osb_server_mini::__private::schemars::schema_for!(P)
                                        .to_value(),
                                ),
                            ),
                        ),
                        update: ::osb_server_mini::__private::core::option::Option::Some(
                            ::osb_server_mini::__private::InputParametersSchema::new(
                                ::osb_server_mini::__private::osb_types::schema::draft04(
                                    ::osb_server_mini::__private::schemars::schema_for!(P)
                                        .to_value(),
                                ),
                            ),
                        ),
                        ..::osb_server_mini::__private::core::default::Default::default()
                    }),
                    service_binding: ::osb_server_mini::__private::core::option::Option::Some(::osb_server_mini::__private::ServiceBindingSchema {
                        create: ::osb_server_mini::__private::core::option::Option::Some(
                            ::osb_server_mini::__private::InputParametersSchema::new(
                                ::osb_server_mini::__private::osb_types::schema::draft04(
                                    ::osb_server_mini::__private::schemars::schema_for!(B)
                                        .to_value(),
                                ),
                            ),
                        ),
                        ..::osb_server_mini::__private::core::default::Default::default()
                    }),
                    ..::osb_server_mini::__private::core::default::Default::default()
                }),
                maximum_polling_duration: ::osb_server_mini::__private::core::option::Option::Some(
                    600i64,
                ),
                maintenance_info: ::osb_server_mini::__private::core::option::Option::Some(::osb_server_mini::__private::MaintenanceInfo {
                    version: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("1.0.0"),
                    ),
                    description: ::osb_server_mini::__private::core::option::Option::Some(
                        ::std::string::String::from("M"),
                    ),
                    ..::osb_server_mini::__private::core::default::Default::default()
                }),
                ..::osb_server_mini::__private::core::default::Default::default()
            }
        }
        fn policy() -> ::osb_server_mini::__private::PlanPolicy {
            ::osb_server_mini::__private::PlanPolicy::async_only()
                .retry_after(::osb_server_mini::__private::Duration::from_secs(3u64))
        }
    }
};
