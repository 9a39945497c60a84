//! keyward in one screen: mint a key, authenticate it, hit a capability it lacks,
//! roll it and revoke it. Run with `cargo run -p keyward-example-quickstart`.

use std::net::IpAddr;
use std::time::Duration;

use keyward::format::KeyFormat;
use keyward::scope::Catalog;
use keyward::store::MemoryStore;
use keyward::{Credential, Keyward, MintRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Catalog::builder()
        .capabilities(["desktop:read", "desktop:chat", "jobs:read", "jobs:write"])
        .implies("jobs:write", "jobs:read")
        .default_grants(["desktop:read", "desktop:chat"])
        .build()?;
    let keyward = Keyward::builder(KeyFormat::new("sk_live_")?, catalog.clone())
        .store(MemoryStore::new())
        .build()?;
    let client: IpAddr = "127.0.0.1".parse()?;

    let minted = keyward
        .keys()
        .mint(MintRequest::new("Production CI", "u_1"))
        .await?;
    println!(
        "minted {} (shown once): {}",
        minted.summary.id,
        minted.key.expose()
    );

    let list_desktops = catalog.all_of(["desktop:read"])?;
    let principal = keyward
        .authenticator()
        .authenticate(Credential::Key(minted.key.expose()), &list_desktops, client)
        .await?;
    println!(
        "GET /v1/desktops as {} -> 200, holds {:?}",
        principal.owner(),
        principal.granted()
    );

    let write_jobs = catalog.all_of(["jobs:write"])?;
    let denied = keyward
        .authenticator()
        .authenticate(Credential::Key(minted.key.expose()), &write_jobs, client)
        .await
        .expect_err("the default key does not hold jobs:write");
    println!(
        "POST /v1/jobs -> {} {}: {denied}",
        denied.code().status(),
        denied.code()
    );

    let rolled = keyward
        .keys()
        .roll(&minted.summary.id, Duration::from_secs(3600))
        .await?;
    println!(
        "rolled to {}; the old key works until {}",
        rolled.new.summary.id,
        rolled
            .old
            .expires_at
            .map(|t| t.to_string())
            .unwrap_or_default()
    );

    keyward.keys().revoke(&rolled.new.summary.id).await?;
    let refused = keyward
        .authenticator()
        .authenticate(
            Credential::Key(rolled.new.key.expose()),
            &list_desktops,
            client,
        )
        .await
        .expect_err("a revoked key is refused");
    println!(
        "after revoke -> {} {}",
        refused.code().status(),
        refused.code()
    );
    Ok(())
}
