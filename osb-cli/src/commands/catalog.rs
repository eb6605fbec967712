//! `osb catalog`.

use crate::Failure;
use crate::commands::Ctx;
use crate::render::{table, yes_no};

/// Prints every plan of every offering.
pub(crate) async fn run(ctx: &mut Ctx) -> Result<(), Failure> {
    let catalog = ctx.catalog().await?;
    let mut rows = Vec::new();
    for s in &catalog.services {
        for p in &s.plans {
            rows.push(vec![
                s.name.clone(),
                p.name.clone(),
                s.id.to_string(),
                p.id.to_string(),
                yes_no(p.free.unwrap_or(true)),
                yes_no(p.bindable.unwrap_or(s.bindable)),
                p.description.clone(),
            ]);
        }
    }
    ctx.emit(
        || {
            table(
                &[
                    "SERVICE",
                    "PLAN",
                    "SERVICE ID",
                    "PLAN ID",
                    "FREE",
                    "BINDABLE",
                    "DESCRIPTION",
                ],
                &rows,
            )
        },
        || serde_json::to_value(&catalog).unwrap_or_default(),
    );
    Ok(())
}
