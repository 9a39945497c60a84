//! Listings: pagination by `(created_at, id)`, filters, revoked keys, bad pages.

use std::sync::Arc;

use keyward_store::{KeyRecord, KeyStore, ListFilter, PageRequest, Tenant};

use super::check::{at, in_list_order, insert_all, invalid_request, list_all, ok, same, same_ids};
use super::{fresh_id, fresh_name, sample_record};

/// Listing by owner pages in `(created_at, id)` order (ties broken by id), with
/// `next` set exactly when more records follow, and cursors that stay valid while keys
/// are added; other owners' keys never appear.
pub async fn list_by_owner_paginates(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "list_by_owner_paginates";
    let owner = fresh_name("owner");
    let other = fresh_name("owner");
    // Inserted out of order; three share a created_at.
    let mine: Vec<KeyRecord> = [50, 10, 30, 30, 30, 90, 20]
        .into_iter()
        .map(|ms| sample_record(fresh_id(), &owner, at(ms)))
        .collect();
    let theirs: Vec<KeyRecord> = [15, 30, 95]
        .into_iter()
        .map(|ms| sample_record(fresh_id(), &other, at(ms)))
        .collect();
    insert_all(CHECK, store, &theirs[..2]).await;
    insert_all(CHECK, store, &mine).await;
    let expected = in_list_order(mine);
    let filter = ListFilter::owner(&owner);

    // One page holding exactly everything: no next page.
    let page = ok(
        CHECK,
        "list",
        store.list(&filter, PageRequest::first(7)).await,
    );
    same_ids(CHECK, "page of exactly 7", &page.records, &expected);
    assert_eq!(
        page.next, None,
        "conformance check `{CHECK}`: next after a full last page"
    );
    for (got, want) in page.records.iter().zip(&expected) {
        same(CHECK, "listed record", got, want);
    }

    // Pages of 3, with a key minted (and another owner's) after the first page.
    let page1 = ok(
        CHECK,
        "list",
        store.list(&filter, PageRequest::first(3)).await,
    );
    same_ids(CHECK, "first page of 3", &page1.records, &expected[..3]);
    assert_eq!(
        page1.next,
        Some(expected[2].id),
        "conformance check `{CHECK}`: next is the last record's id"
    );
    let late = sample_record(fresh_id(), &owner, at(100));
    insert_all(CHECK, store, &[late.clone(), theirs[2].clone()]).await;
    let page2 = ok(
        CHECK,
        "list",
        store
            .list(
                &filter,
                PageRequest {
                    limit: 3,
                    after: page1.next,
                },
            )
            .await,
    );
    same_ids(CHECK, "second page of 3", &page2.records, &expected[3..6]);
    assert_eq!(
        page2.next,
        Some(expected[5].id),
        "conformance check `{CHECK}`: second next"
    );
    let page3 = ok(
        CHECK,
        "list",
        store
            .list(
                &filter,
                PageRequest {
                    limit: 3,
                    after: page2.next,
                },
            )
            .await,
    );
    let mut tail = expected[6..].to_vec();
    tail.push(late);
    same_ids(CHECK, "last page", &page3.records, &tail);
    assert_eq!(
        page3.next, None,
        "conformance check `{CHECK}`: next on the last page"
    );

    // Page size 1 walks everything; the largest page is allowed.
    let mut everything = expected.clone();
    everything.extend(tail.into_iter().skip(1));
    same_ids(
        CHECK,
        "pages of 1",
        &list_all(CHECK, store, &filter, 1).await,
        &everything,
    );
    same_ids(
        CHECK,
        "one page of MAX_LIMIT",
        &list_all(CHECK, store, &filter, PageRequest::MAX_LIMIT).await,
        &everything,
    );
    same_ids(
        CHECK,
        "the other owner",
        &list_all(CHECK, store, &ListFilter::owner(other), 2).await,
        &in_list_order(theirs),
    );
}

/// Listing by tenant matches team and project exactly, across owners, and combines
/// with an owner filter.
pub async fn list_by_tenant(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "list_by_tenant";
    let team = fresh_name("team");
    let alpha = Tenant::new(&team, "alpha");
    let beta = Tenant::new(&team, "beta");
    let other_team = Tenant::new(fresh_name("team"), "alpha");
    let (o1, o2) = (fresh_name("owner"), fresh_name("owner"));
    let with = |owner: &str, tenant: Option<&Tenant>, ms| {
        let mut r = sample_record(fresh_id(), owner, at(ms));
        r.tenant = tenant.cloned();
        r
    };
    let records = vec![
        with(&o1, Some(&alpha), 3),
        with(&o2, Some(&alpha), 1),
        with(&o1, Some(&beta), 2),
        with(&o1, None, 4),
        with(&o1, Some(&alpha), 5),
        with(&o2, Some(&other_team), 6),
    ];
    insert_all(CHECK, store, &records).await;
    let pick = |idx: &[usize]| in_list_order(idx.iter().map(|&i| records[i].clone()).collect());

    let got = list_all(CHECK, store, &ListFilter::tenant(alpha.clone()), 2).await;
    same_ids(CHECK, "tenant alpha", &got, &pick(&[0, 1, 4]));
    for r in &got {
        assert_eq!(
            r.tenant.as_ref(),
            Some(&alpha),
            "conformance check `{CHECK}`: tenant"
        );
    }
    let got = list_all(CHECK, store, &ListFilter::tenant(beta), 2).await;
    same_ids(CHECK, "tenant beta", &got, &pick(&[2]));
    let got = list_all(CHECK, store, &ListFilter::tenant(other_team), 2).await;
    same_ids(CHECK, "same project, other team", &got, &pick(&[5]));
    let both = ListFilter {
        owner: Some(o1.clone()),
        tenant: Some(alpha),
        include_revoked: true,
    };
    same_ids(
        CHECK,
        "owner and tenant",
        &list_all(CHECK, store, &both, 2).await,
        &pick(&[0, 4]),
    );
    same_ids(
        CHECK,
        "owner across tenants",
        &list_all(CHECK, store, &ListFilter::owner(o1), 2).await,
        &pick(&[0, 2, 3, 4]),
    );
}

/// `include_revoked: false` leaves out revoked keys (but not disabled or expired
/// ones), also across pages and with a revoked key as the cursor; `true` lists them
/// with `revoked_at` set.
pub async fn list_excludes_revoked_unless_asked(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "list_excludes_revoked_unless_asked";
    let owner = fresh_name("owner");
    let mut records: Vec<KeyRecord> = (0..5)
        .map(|ms| sample_record(fresh_id(), &owner, at(ms)))
        .collect();
    records[3].disabled_at = Some(at(10));
    records[4].expires_at = Some(at(11));
    insert_all(CHECK, store, &records).await;
    for i in [1, 2] {
        let revoked = ok(CHECK, "revoke", store.revoke(&records[i].id, at(20)).await);
        records[i] = revoked;
    }

    let active_only = ListFilter {
        owner: Some(owner.clone()),
        tenant: None,
        include_revoked: false,
    };
    let expected = [records[0].clone(), records[3].clone(), records[4].clone()];
    same_ids(
        CHECK,
        "without revoked",
        &list_all(CHECK, store, &active_only, 10).await,
        &expected,
    );
    same_ids(
        CHECK,
        "without revoked, pages of 1",
        &list_all(CHECK, store, &active_only, 1).await,
        &expected,
    );
    // A cursor may name a key the filter leaves out (it was revoked between pages).
    let page = ok(
        CHECK,
        "list after a revoked cursor",
        store
            .list(
                &active_only,
                PageRequest {
                    limit: 10,
                    after: Some(records[1].id),
                },
            )
            .await,
    );
    same_ids(
        CHECK,
        "after a revoked cursor",
        &page.records,
        &expected[1..],
    );

    let all = list_all(CHECK, store, &ListFilter::owner(owner), 10).await;
    same_ids(CHECK, "with revoked", &all, &records);
    for (got, want) in all.iter().zip(&records) {
        same(CHECK, "listed with revoked", got, want);
    }
    assert_eq!(
        all[1].revoked_at,
        Some(at(20)),
        "conformance check `{CHECK}`: revoked_at"
    );
}

/// Page limits of 0 and above [`PageRequest::MAX_LIMIT`] and a cursor naming no key
/// are [`StoreError::InvalidRequest`]; `MAX_LIMIT` itself is served.
///
/// [`StoreError::InvalidRequest`]: keyward_store::StoreError::InvalidRequest
pub async fn list_rejects_bad_page(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "list_rejects_bad_page";
    let filter = ListFilter::owner(fresh_name("owner"));
    for limit in [0, PageRequest::MAX_LIMIT + 1, u32::MAX] {
        invalid_request(
            CHECK,
            &format!("list with limit {limit}"),
            store.list(&filter, PageRequest::first(limit)).await,
        );
    }
    let page = ok(
        CHECK,
        "list with MAX_LIMIT",
        store
            .list(&filter, PageRequest::first(PageRequest::MAX_LIMIT))
            .await,
    );
    assert!(
        page.records.is_empty() && page.next.is_none(),
        "conformance check `{CHECK}`: a fresh owner has no keys"
    );
    invalid_request(
        CHECK,
        "list after a cursor naming no key",
        store
            .list(
                &filter,
                PageRequest {
                    limit: 10,
                    after: Some(fresh_id()),
                },
            )
            .await,
    );
}
