impl EchoBroker {
    async fn provision(
        &self,
        ctx: &RequestContext,
        req: ProvisionRequest,
    ) -> Result<Provisioned, BrokerError> {
        Ok(Provisioned::done())
    }
    async fn deprovision(
        &self,
        _: &RequestContext,
        _: DeprovisionRequest,
    ) -> Result<Deprovisioned, BrokerError> {
        Ok(Deprovisioned::done())
    }
    async fn fetch_instance(
        &self,
        _: &RequestContext,
    ) -> Result<Option<FetchInstanceResponse>, BrokerError> {
        Ok(None)
    }
    async fn bind(
        &self,
        _: &RequestContext,
        _: BindRequest,
        params: BindParams,
    ) -> Result<Bound, BrokerError> {
        Ok(Bound::credentials(params.into()))
    }
}
const _: () = {
    #[automatically_derived]
    impl my::osb::__private::Broker for EchoBroker {
        fn catalog(&self) -> my::osb::__private::Catalog {
            my::osb::__private::Catalog::new(
                ::std::vec![
                    < Echo as my::osb::__private::Offering > ::offering(), <
                    other::Second as my::osb::__private::Offering > ::offering()
                ],
            )
        }
        fn plan_policy(
            &self,
            _offering: &my::osb::__private::ServiceOffering,
            plan: &my::osb::__private::ServicePlan,
        ) -> my::osb::__private::PlanPolicy {
            my::osb::__private::find_policy(
                &[
                    <Echo as my::osb::__private::Offering>::plan_policies(),
                    <other::Second as my::osb::__private::Offering>::plan_policies(),
                ],
                plan,
            )
        }
        fn provision(
            &self,
            __osb_ctx: &my::osb::__private::RequestContext,
            __osb_request: my::osb::__private::ProvisionRequest,
        ) -> impl my::osb::__private::core::future::Future<
            Output = my::osb::__private::core::result::Result<
                my::osb::__private::Provisioned,
                my::osb::__private::BrokerError,
            >,
        > + my::osb::__private::core::marker::Send {
            <EchoBroker>::provision(self, __osb_ctx, __osb_request)
        }
        fn deprovision(
            &self,
            __osb_ctx: &my::osb::__private::RequestContext,
            __osb_request: my::osb::__private::DeprovisionRequest,
        ) -> impl my::osb::__private::core::future::Future<
            Output = my::osb::__private::core::result::Result<
                my::osb::__private::Deprovisioned,
                my::osb::__private::BrokerError,
            >,
        > + my::osb::__private::core::marker::Send {
            <EchoBroker>::deprovision(self, __osb_ctx, __osb_request)
        }
        fn fetch_instance(
            &self,
            __osb_ctx: &my::osb::__private::RequestContext,
        ) -> impl my::osb::__private::core::future::Future<
            Output = my::osb::__private::core::result::Result<
                my::osb::__private::core::option::Option<
                    my::osb::__private::FetchInstanceResponse,
                >,
                my::osb::__private::BrokerError,
            >,
        > + my::osb::__private::core::marker::Send {
            <EchoBroker>::fetch_instance(self, __osb_ctx)
        }
        fn bind(
            &self,
            __osb_ctx: &my::osb::__private::RequestContext,
            __osb_request: my::osb::__private::BindRequest,
        ) -> impl my::osb::__private::core::future::Future<
            Output = my::osb::__private::core::result::Result<
                my::osb::__private::Bound,
                my::osb::__private::BrokerError,
            >,
        > + my::osb::__private::core::marker::Send {
            async move {
                let __osb_params = match my::osb::__private::decode_params::<
                    BindParams,
                >(__osb_request.parameters.as_ref()) {
                    my::osb::__private::core::result::Result::Ok(params) => params,
                    my::osb::__private::core::result::Result::Err(error) => {
                        return my::osb::__private::core::result::Result::Err(error);
                    }
                };
                <EchoBroker>::bind(self, __osb_ctx, __osb_request, __osb_params).await
            }
        }
    }
    const _: () = {
        if let my::osb::__private::core::option::Option::Some(message) = &my::osb::__private::missing_params(
            &[
                <Echo as my::osb::__private::Offering>::PLAN_PARAMS,
                <other::Second as my::osb::__private::Offering>::PLAN_PARAMS,
            ],
            my::osb::__private::ParamsKind::Bind,
            "the `params` argument",
            "BindParams",
        ) {
            my::osb::__private::core::panic!("{}", message.as_str());
        }
    };
};
