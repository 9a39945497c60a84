//! The audit log: appending, listing, pruning, and `apply` (a change and its entry as
//! one step).
//!
//! Every check logs entries about fresh key ids and lists only by key, so the entries
//! of other checks (or of an earlier run on the same store) never interfere. Pruning
//! is the exception, as it removes by time across the whole log: its check works at
//! times long before every other check's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use keyward_clock::Timestamp;
use keyward_format::KeyId;
use keyward_store::{
    Actor, AuditAction, AuditEntry, AuditQuery, KeyChange, KeyRecord, KeyState, KeyStore,
    StoreError,
};

use super::check::{at, expect_err, invalid_request, not_found, ok, same};
use super::{fresh_id, fresh_name, sample_record};

/// An entry for `action` on `key` by the CLI at `when`.
fn entry(when: Timestamp, action: AuditAction, key: KeyId) -> AuditEntry {
    AuditEntry::new(when, action, key, Actor::Cli)
}

/// Every entry about `key` (as the target or a roll's replacement), oldest first.
async fn entries_about(check: &str, store: &Arc<dyn KeyStore>, key: KeyId) -> Vec<AuditEntry> {
    ok(
        check,
        "list_audit by key",
        store
            .list_audit(&AuditQuery::key(key, AuditQuery::MAX_LIMIT))
            .await,
    )
}

/// `got` is `expected` as stored: a sequence number assigned, the note cut.
#[track_caller]
fn same_entry(check: &str, what: &str, got: &AuditEntry, expected: &AuditEntry) {
    assert!(
        got.seq > 0,
        "conformance check `{check}`: {what}: no sequence number assigned: {got:?}"
    );
    let mut expected = expected.clone();
    expected.seq = got.seq;
    expected.note = expected.stored_note().map(String::from);
    assert_eq!(got, &expected, "conformance check `{check}`: {what}");
}

#[track_caller]
fn same_entries(check: &str, what: &str, got: &[AuditEntry], expected: &[&AuditEntry]) {
    assert_eq!(
        got.len(),
        expected.len(),
        "conformance check `{check}`: {what}: got {got:#?}"
    );
    for (got, expected) in got.iter().zip(expected) {
        same_entry(check, what, got, expected);
    }
}

/// `append_audit` assigns each entry a sequence number above every earlier one's, and
/// a listing returns the entries in that order, oldest first by sequence number even
/// when their times are not in order.
pub async fn audit_append_assigns_increasing_seq(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "audit_append_assigns_increasing_seq";
    let key = fresh_id();
    // Appended out of time order: the listing follows the sequence, not the time.
    let appended = [
        entry(at(30), AuditAction::Minted, key),
        entry(at(10), AuditAction::Disabled, key),
        entry(at(20), AuditAction::Enabled, key),
    ];
    for e in &appended {
        ok(CHECK, "append_audit", store.append_audit(e).await);
    }
    let listed = entries_about(CHECK, store, key).await;
    same_entries(CHECK, "entries of the key", &listed, &appended.each_ref());
    assert!(
        listed.windows(2).all(|w| w[0].seq < w[1].seq),
        "conformance check `{CHECK}`: sequence numbers must increase: {listed:#?}"
    );
    // A later entry about another key still gets a higher number.
    let other = entry(at(0), AuditAction::Revoked, fresh_id());
    ok(CHECK, "append_audit", store.append_audit(&other).await);
    let later = entries_about(CHECK, store, other.key).await;
    assert!(
        later.len() == 1 && later[0].seq > listed[2].seq,
        "conformance check `{CHECK}`: a later entry got seq {:?}, not above {}",
        later.first().map(|e| e.seq),
        listed[2].seq
    );
}

/// A listing filters by key (the target, or the replacement of a roll), by time
/// (`since`, inclusive) and by sequence number (`after_seq`, exclusive), and returns
/// at most `limit` entries, oldest first, so `after_seq` pages through the log.
pub async fn audit_list_filters_and_pages(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "audit_list_filters_and_pages";
    let (old, new, bystander) = (fresh_id(), fresh_id(), fresh_id());
    let minted = entry(at(0), AuditAction::Minted, old);
    let unrelated = entry(at(5), AuditAction::Minted, bystander);
    let mut rolled = entry(at(10), AuditAction::Rolled, old);
    rolled.replacement = Some(new);
    let disabled = entry(at(20), AuditAction::Disabled, new);
    let revoked = entry(at(30), AuditAction::Revoked, old);
    for e in [&minted, &unrelated, &rolled, &disabled, &revoked] {
        ok(CHECK, "append_audit", store.append_audit(e).await);
    }

    let of_old = entries_about(CHECK, store, old).await;
    same_entries(
        CHECK,
        "entries of the rolled key",
        &of_old,
        &[&minted, &rolled, &revoked],
    );
    let of_new = entries_about(CHECK, store, new).await;
    same_entries(
        CHECK,
        "entries of the replacement (the roll names it)",
        &of_new,
        &[&rolled, &disabled],
    );

    let since = |since| AuditQuery {
        since: Some(since),
        ..AuditQuery::key(old, 10)
    };
    let listed = ok(CHECK, "list since", store.list_audit(&since(at(10))).await);
    same_entries(
        CHECK,
        "entries since the roll's time (inclusive)",
        &listed,
        &[&rolled, &revoked],
    );
    let listed = ok(CHECK, "list since", store.list_audit(&since(at(31))).await);
    same_entries(CHECK, "entries since after the last", &listed, &[]);

    // Pages of two, each after the previous page's last sequence number.
    let first = ok(
        CHECK,
        "first page",
        store.list_audit(&AuditQuery::key(old, 2)).await,
    );
    same_entries(CHECK, "first page of two", &first, &[&minted, &rolled]);
    let second = ok(
        CHECK,
        "second page",
        store
            .list_audit(&AuditQuery {
                after_seq: Some(first[1].seq),
                ..AuditQuery::key(old, 2)
            })
            .await,
    );
    same_entries(CHECK, "second page", &second, &[&revoked]);
    let past_the_end = ok(
        CHECK,
        "page past the end",
        store
            .list_audit(&AuditQuery {
                after_seq: Some(second[0].seq),
                ..AuditQuery::key(old, 2)
            })
            .await,
    );
    same_entries(CHECK, "page after the last entry", &past_the_end, &[]);
    let beyond = ok(
        CHECK,
        "page after the largest sequence number",
        store
            .list_audit(&AuditQuery {
                after_seq: Some(u64::MAX),
                ..AuditQuery::all(10)
            })
            .await,
    );
    same_entries(CHECK, "page after u64::MAX", &beyond, &[]);

    // Without a key filter: the whole log, still oldest first, ours among it.
    let all = ok(
        CHECK,
        "list everything after the first entry",
        store
            .list_audit(&AuditQuery {
                after_seq: Some(of_old[0].seq),
                ..AuditQuery::all(AuditQuery::MAX_LIMIT)
            })
            .await,
    );
    assert!(
        all.windows(2).all(|w| w[0].seq < w[1].seq),
        "conformance check `{CHECK}`: the whole log must be oldest first"
    );
    let ours: Vec<u64> = all
        .iter()
        .filter(|e| [old, new, bystander].contains(&e.key))
        .map(|e| e.seq)
        .collect();
    let of_bystander = entries_about(CHECK, store, bystander).await;
    let mut expected = vec![
        of_bystander[0].seq,
        of_old[1].seq,
        of_new[1].seq,
        of_old[2].seq,
    ];
    expected.sort_unstable();
    assert_eq!(
        ours, expected,
        "conformance check `{CHECK}`: the unfiltered listing after the first entry"
    );
}

/// A listing's limit is 1 ..= [`AuditQuery::MAX_LIMIT`]; 0 and anything above are
/// [`StoreError::InvalidRequest`].
pub async fn audit_list_rejects_bad_limit(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "audit_list_rejects_bad_limit";
    for limit in [0, AuditQuery::MAX_LIMIT + 1, u32::MAX] {
        invalid_request(
            CHECK,
            &format!("limit {limit}"),
            store.list_audit(&AuditQuery::all(limit)).await,
        );
        invalid_request(
            CHECK,
            &format!("limit {limit} by key"),
            store.list_audit(&AuditQuery::key(fresh_id(), limit)).await,
        );
    }
    ok(
        CHECK,
        "the largest limit",
        store
            .list_audit(&AuditQuery::key(fresh_id(), AuditQuery::MAX_LIMIT))
            .await,
    );
}

/// `prune_audit(before)` removes exactly the entries older than `before` (one at
/// `before` stays) and says how many it removed.
pub async fn audit_prune_removes_only_older_entries(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "audit_prune_removes_only_older_entries";
    // 2001: older than every other check's entries, which this must not touch.
    let base = 1_000_000_000_000;
    let before = Timestamp::from_unix_millis(base + 10);
    // Whatever an interrupted earlier run left this old goes first.
    ok(CHECK, "first prune", store.prune_audit(before).await);

    let key = fresh_id();
    let old: Vec<AuditEntry> = [0, 1, 9]
        .into_iter()
        .map(|ms| {
            entry(
                Timestamp::from_unix_millis(base + ms),
                AuditAction::Minted,
                key,
            )
        })
        .collect();
    let kept = [
        entry(before, AuditAction::Disabled, key),
        entry(
            Timestamp::from_unix_millis(base + 11),
            AuditAction::Enabled,
            key,
        ),
    ];
    let younger = entry(at(0), AuditAction::Revoked, key);
    // Interleaved, so pruning cannot just cut a prefix of the sequence.
    for e in [&old[0], &kept[0], &old[1], &kept[1], &old[2], &younger] {
        ok(CHECK, "append_audit", store.append_audit(e).await);
    }
    let pruned = ok(CHECK, "prune", store.prune_audit(before).await);
    assert_eq!(
        pruned, 3,
        "conformance check `{CHECK}`: prune must count the entries it removed"
    );
    same_entries(
        CHECK,
        "entries left after pruning",
        &entries_about(CHECK, store, key).await,
        &[&kept[0], &kept[1], &younger],
    );
    assert_eq!(
        ok(CHECK, "second prune", store.prune_audit(before).await),
        0,
        "conformance check `{CHECK}`: a second prune finds nothing"
    );
}

/// Every field comes back as appended: each action, each kind of actor (a user id with
/// quotes and non-ASCII text), IPv4, IPv6 and no address, capabilities, a replacement,
/// and a note longer than [`AuditEntry::MAX_NOTE_LEN`], cut at a character boundary.
pub async fn audit_round_trips_every_field(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "audit_round_trips_every_field";
    let key = fresh_id();
    let actors = [
        Actor::Key(fresh_id()),
        Actor::User("Zoë \"O'Brien\" 名前; DROP TABLE --".to_owned()),
        Actor::Cli,
        Actor::Service,
        Actor::Automatic,
    ];
    let addresses = [
        Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
        Some(IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x17,
        ))),
        None,
    ];
    // One ASCII byte then two-byte characters: byte 512 falls inside a character.
    let long_note = format!("a{}", "é".repeat(AuditEntry::MAX_NOTE_LEN));
    let mut appended = Vec::new();
    for (i, action) in AuditAction::ALL.into_iter().enumerate() {
        let mut e = AuditEntry::new(
            at(1_000 + i as u64),
            action,
            key,
            actors[i % actors.len()].clone(),
        );
        e.client_ip = addresses[i % addresses.len()];
        if matches!(action, AuditAction::Minted | AuditAction::Rolled) {
            e.capabilities = vec!["keys:read".to_owned(), "billing:write".to_owned()];
        }
        if action == AuditAction::Rolled {
            e.replacement = Some(fresh_id());
        }
        e.note = match i % 3 {
            0 => None,
            1 => Some("https://example.com/leak?id=1&q=\"x\"".to_owned()),
            _ => Some(long_note.clone()),
        };
        ok(CHECK, "append_audit", store.append_audit(&e).await);
        appended.push(e);
    }
    let listed = entries_about(CHECK, store, key).await;
    same_entries(
        CHECK,
        "entries as listed",
        &listed,
        &appended.iter().collect::<Vec<_>>(),
    );
    let cut = listed
        .iter()
        .filter_map(|e| e.note.as_deref())
        .find(|n| n.starts_with('a'))
        .expect("an entry with the long note");
    assert_eq!(
        cut.len(),
        AuditEntry::MAX_NOTE_LEN - 1,
        "conformance check `{CHECK}`: the long note is cut to the last whole character"
    );
}

/// `apply` of each kind of change returns what the plain method returns, makes the
/// change, and appends the entry exactly once; a note holding control characters (a
/// NUL among them) fails nothing and is stored without them.
pub async fn apply_changes_and_appends_one_entry(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "apply_changes_and_appends_one_entry";
    let owner = fresh_name("owner");
    let record = sample_record(fresh_id(), &owner, at(0));

    let applied = async |change: KeyChange<'_>, e: AuditEntry| {
        let got = ok(CHECK, "apply", store.apply(change, Some(&e)).await);
        (got, e)
    };
    // The key's entries were `before` and are one more, `e` last.
    let check_logged = async |what: &str, e: &AuditEntry, before: usize| {
        let listed = entries_about(CHECK, store, e.key).await;
        assert_eq!(
            listed.len(),
            before + 1,
            "conformance check `{CHECK}`: {what}: exactly one entry appended: {listed:#?}"
        );
        same_entry(CHECK, what, &listed[before], e);
    };

    // Insert.
    let mut minted = entry(at(0), AuditAction::Minted, record.id);
    minted.capabilities = record.capabilities.clone();
    let (got, e) = applied(
        KeyChange::Insert {
            record: &record,
            max_live: 10,
            now: at(0),
        },
        minted,
    )
    .await;
    same(CHECK, "apply(Insert) returns the record", &got, &record);
    same(
        CHECK,
        "record after apply(Insert)",
        &ok(CHECK, "get", store.get(&record.id).await),
        &record,
    );
    check_logged("apply(Insert)", &e, 0).await;

    // Disable, enable, set and clear the expiry, revoke.
    let mut expected = record.clone();
    expected.disabled_at = Some(at(10));
    let (got, e) = applied(
        KeyChange::SetDisabled {
            id: &record.id,
            disabled_at: Some(at(10)),
        },
        entry(at(10), AuditAction::Disabled, record.id),
    )
    .await;
    same(CHECK, "apply(SetDisabled(Some))", &got, &expected);
    check_logged("apply(SetDisabled(Some))", &e, 1).await;

    expected.disabled_at = None;
    let (got, e) = applied(
        KeyChange::SetDisabled {
            id: &record.id,
            disabled_at: None,
        },
        entry(at(20), AuditAction::Enabled, record.id),
    )
    .await;
    same(CHECK, "apply(SetDisabled(None))", &got, &expected);
    check_logged("apply(SetDisabled(None))", &e, 2).await;

    expected.expires_at = Some(at(90_000));
    let (got, e) = applied(
        KeyChange::SetExpiry {
            id: &record.id,
            expires_at: Some(at(90_000)),
        },
        entry(at(30), AuditAction::ExpirySet, record.id),
    )
    .await;
    same(CHECK, "apply(SetExpiry(Some))", &got, &expected);
    check_logged("apply(SetExpiry(Some))", &e, 3).await;

    expected.expires_at = None;
    let (got, e) = applied(
        KeyChange::SetExpiry {
            id: &record.id,
            expires_at: None,
        },
        entry(at(40), AuditAction::ExpirySet, record.id),
    )
    .await;
    same(CHECK, "apply(SetExpiry(None))", &got, &expected);
    check_logged("apply(SetExpiry(None))", &e, 4).await;

    // Roll: the old key's record back, the replacement stored, the entry listed under
    // both keys.
    let replacement = sample_record(fresh_id(), &owner, at(50));
    let mut rolled = entry(at(50), AuditAction::Rolled, record.id);
    rolled.replacement = Some(replacement.id);
    rolled.capabilities = replacement.capabilities.clone();
    let (got, e) = applied(
        KeyChange::Roll {
            old: &record.id,
            old_expires_at: at(60_000),
            replacement: &replacement,
            now: at(50),
        },
        rolled,
    )
    .await;
    expected.expires_at = Some(at(60_000));
    expected.replaced_by = Some(replacement.id);
    same(CHECK, "apply(Roll) returns the old key", &got, &expected);
    same(
        CHECK,
        "replacement after apply(Roll)",
        &ok(CHECK, "get", store.get(&replacement.id).await),
        &replacement,
    );
    check_logged("apply(Roll)", &e, 5).await;
    let of_replacement = entries_about(CHECK, store, replacement.id).await;
    same_entries(
        CHECK,
        "the replacement's entries after apply(Roll)",
        &of_replacement,
        &[&e],
    );

    // Revoke as leaked, with a note from an untrusted report (a NUL, which PostgreSQL
    // text refuses, and terminal controls): the revoke still happens, the note is kept
    // without them. Then delete.
    expected.revoked_at = Some(at(70));
    let mut leaked = entry(at(70), AuditAction::Leaked, record.id);
    leaked.note = Some("https://example.com/a\0b\r\n\u{1b}[2J\u{7f}c".to_owned());
    let (got, e) = applied(
        KeyChange::Revoke {
            id: &record.id,
            at: at(70),
        },
        leaked,
    )
    .await;
    same(CHECK, "apply(Revoke)", &got, &expected);
    check_logged("apply(Revoke)", &e, 6).await;
    let listed = entries_about(CHECK, store, record.id).await;
    assert_eq!(
        listed[6].note.as_deref(),
        Some("https://example.com/ab[2Jc"),
        "conformance check `{CHECK}`: a note is stored without control characters"
    );

    let (got, e) = applied(
        KeyChange::Delete { id: &record.id },
        entry(at(80), AuditAction::Deleted, record.id),
    )
    .await;
    same(
        CHECK,
        "apply(Delete) returns the removed record",
        &got,
        &expected,
    );
    not_found(
        CHECK,
        "get after apply(Delete)",
        store.get(&record.id).await,
    );
    check_logged("apply(Delete)", &e, 7).await;
}

/// An `apply` whose change fails (an unknown key, the owner's cap, a key rolled
/// already or no longer active, an id taken) returns the change's error and appends
/// nothing.
pub async fn apply_that_fails_appends_nothing(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "apply_that_fails_appends_nothing";
    let owner = fresh_name("owner");
    let unknown = fresh_id();
    let nothing_about = async |what: &str, key: KeyId| {
        let listed = entries_about(CHECK, store, key).await;
        assert!(
            listed.is_empty(),
            "conformance check `{CHECK}`: {what}: a failed apply appended {listed:#?}"
        );
    };

    let replacement = sample_record(fresh_id(), &owner, at(5));
    let mut roll_entry = entry(at(5), AuditAction::Rolled, unknown);
    roll_entry.replacement = Some(replacement.id);
    let changes = [
        (
            "Revoke",
            KeyChange::Revoke {
                id: &unknown,
                at: at(5),
            },
            entry(at(5), AuditAction::Revoked, unknown),
        ),
        (
            "Delete",
            KeyChange::Delete { id: &unknown },
            entry(at(5), AuditAction::Deleted, unknown),
        ),
        (
            "SetDisabled",
            KeyChange::SetDisabled {
                id: &unknown,
                disabled_at: Some(at(5)),
            },
            entry(at(5), AuditAction::Disabled, unknown),
        ),
        (
            "SetExpiry",
            KeyChange::SetExpiry {
                id: &unknown,
                expires_at: None,
            },
            entry(at(5), AuditAction::ExpirySet, unknown),
        ),
        (
            "Roll",
            KeyChange::Roll {
                old: &unknown,
                old_expires_at: at(100),
                replacement: &replacement,
                now: at(5),
            },
            roll_entry,
        ),
    ];
    for (what, change, e) in changes {
        not_found(
            CHECK,
            &format!("apply({what}) of an unknown key"),
            store.apply(change, Some(&e)).await,
        );
    }
    nothing_about("changes of an unknown key", unknown).await;
    nothing_about("the replacement of an unknown key", replacement.id).await;
    not_found(
        CHECK,
        "the replacement of an unknown key",
        store.get(&replacement.id).await,
    );

    // The owner's cap.
    let first = sample_record(fresh_id(), &owner, at(0));
    ok(CHECK, "insert", store.insert(&first).await);
    let over = sample_record(fresh_id(), &owner, at(1));
    expect_err(
        CHECK,
        "apply(Insert) past the cap",
        store
            .apply(
                KeyChange::Insert {
                    record: &over,
                    max_live: 1,
                    now: at(1),
                },
                Some(&entry(at(1), AuditAction::Minted, over.id)),
            )
            .await,
        "StoreError::TooManyKeys",
        |e| matches!(e, StoreError::TooManyKeys { max: 1 }),
    );
    not_found(CHECK, "get of the refused key", store.get(&over.id).await);
    nothing_about("an insert past the cap", over.id).await;

    // An id taken.
    expect_err(
        CHECK,
        "apply(Insert) of an existing id",
        store
            .apply(
                KeyChange::Insert {
                    record: &first,
                    max_live: 100,
                    now: at(1),
                },
                Some(&entry(at(1), AuditAction::Minted, first.id)),
            )
            .await,
        "StoreError::Conflict",
        |e| matches!(e, StoreError::Conflict),
    );
    nothing_about("an insert of an existing id", first.id).await;

    // A key rolled already.
    let next = sample_record(fresh_id(), &owner, at(10));
    ok(
        CHECK,
        "roll",
        store.roll(&first.id, at(500), &next, at(10)).await,
    );
    let again = sample_record(fresh_id(), &owner, at(20));
    let mut second_roll = entry(at(20), AuditAction::Rolled, first.id);
    second_roll.replacement = Some(again.id);
    expect_err(
        CHECK,
        "apply(Roll) of a rolled key",
        store
            .apply(
                KeyChange::Roll {
                    old: &first.id,
                    old_expires_at: at(900),
                    replacement: &again,
                    now: at(20),
                },
                Some(&second_roll),
            )
            .await,
        "StoreError::AlreadyRolled",
        |e| matches!(e, StoreError::AlreadyRolled),
    );
    nothing_about("a second roll", first.id).await;
    nothing_about("a second roll's replacement", again.id).await;

    // A key no longer active.
    let revoked = sample_record(fresh_id(), &owner, at(0));
    ok(CHECK, "insert", store.insert(&revoked).await);
    ok(CHECK, "revoke", store.revoke(&revoked.id, at(3)).await);
    let late = sample_record(fresh_id(), &owner, at(30));
    let mut late_roll = entry(at(30), AuditAction::Rolled, revoked.id);
    late_roll.replacement = Some(late.id);
    expect_err(
        CHECK,
        "apply(Roll) of a revoked key",
        store
            .apply(
                KeyChange::Roll {
                    old: &revoked.id,
                    old_expires_at: at(900),
                    replacement: &late,
                    now: at(30),
                },
                Some(&late_roll),
            )
            .await,
        "StoreError::NotActive(Revoked)",
        |e| matches!(e, StoreError::NotActive(KeyState::Revoked)),
    );
    nothing_about("a roll of a revoked key", revoked.id).await;
    nothing_about("the replacement of a revoked key", late.id).await;
}

/// `apply(change, None)` makes the change and appends nothing.
pub async fn apply_without_an_entry_appends_nothing(store: &Arc<dyn KeyStore>) {
    const CHECK: &str = "apply_without_an_entry_appends_nothing";
    let owner = fresh_name("owner");
    let record = sample_record(fresh_id(), &owner, at(0));
    let inserted = ok(
        CHECK,
        "apply(Insert, None)",
        store
            .apply(
                KeyChange::Insert {
                    record: &record,
                    max_live: 10,
                    now: at(0),
                },
                None,
            )
            .await,
    );
    same(CHECK, "apply(Insert, None)", &inserted, &record);
    let revoked = ok(
        CHECK,
        "apply(Revoke, None)",
        store
            .apply(
                KeyChange::Revoke {
                    id: &record.id,
                    at: at(10),
                },
                None,
            )
            .await,
    );
    let mut expected: KeyRecord = record.clone();
    expected.revoked_at = Some(at(10));
    same(CHECK, "apply(Revoke, None)", &revoked, &expected);
    same(
        CHECK,
        "record after apply(Revoke, None)",
        &ok(CHECK, "get", store.get(&record.id).await),
        &expected,
    );
    let listed = entries_about(CHECK, store, record.id).await;
    assert!(
        listed.is_empty(),
        "conformance check `{CHECK}`: apply without an entry appended {listed:#?}"
    );
}
