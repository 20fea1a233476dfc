//! Personal data at rest: instructors' mobile numbers encrypted field by field with a blind index,
//! legacy plain text protected at start-up, keys rotated in batches. On SQLite and, when
//! DANGJIAN_TEST_PG is set, PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use dangjian_domain::instructor::InstructorInput;
use dangjian_domain::{InstructorDraft, Mobile};
use dangjian_security::field_cipher::{Algorithm, Keyring};
use dangjian_store::testing::{all_backends, keyring};
use dangjian_store::{AccessFilter, Disclosure, Store, StoreError};
use sqlx::Row;
use std::sync::Arc;

fn draft(name: &str, mobile: &str) -> InstructorDraft {
    InstructorDraft::parse(&InstructorInput {
        name: Some(name.into()),
        mobile: Some(mobile.into()),
        dispatching_org: Some("南山区委社会工作部".into()),
        region_code: Some("440305".into()),
        assignments: vec![],
    })
    .unwrap()
}

fn all() -> AccessFilter {
    AccessFilter::unrestricted()
}

/// The stored mobile column and blind index of an instructor, read past the store's API.
async fn raw(store: &Store, id: i64) -> (String, Option<String>) {
    let row = sqlx::query("SELECT mobile, mobile_idx FROM instructors WHERE id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    (row.try_get("mobile").unwrap(), row.try_get("mobile_idx").unwrap())
}

/// Writes an instructor the way releases before encryption did: the number in plain text, no index.
async fn insert_legacy(store: &Store, name: &str, mobile: &str) -> i64 {
    sqlx::query(
        "INSERT INTO instructors (name, mobile, region_code, created_at, updated_at) \
         VALUES ($1, $2, '440305', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z') RETURNING id",
    )
    .bind(name.to_owned())
    .bind(mobile.to_owned())
    .fetch_one(store.pool())
    .await
    .unwrap()
    .try_get("id")
    .unwrap()
}

#[tokio::test]
async fn mobile_numbers_are_ciphertext_at_rest_and_masked_on_the_way_out() {
    for db in all_backends().await {
        let s = &db.store;
        let keys = keyring();
        let i = s.create_instructor(&draft("李明", "13912345678"), &all()).await.unwrap();
        assert_eq!(i.mobile_masked, "139****5678");
        let json = serde_json::to_string(&i).unwrap();
        assert!(!json.contains("13912345678") && !json.contains("12345678"), "{json}");

        let (stored, index) = raw(s, i.id).await;
        assert!(stored.starts_with("v1.sm4-gcm.k1."), "{stored}");
        assert!(!stored.contains("13912345678") && !stored.contains("2345678"), "{stored}");
        assert_eq!(index.as_deref(), Some(keys.blind_index("13912345678").as_str()));
        assert_eq!(keys.decrypt(&stored, "instructors.mobile").unwrap(), "13912345678");
        assert!(keys.decrypt(&stored, "instructors.name").is_err(), "bound to its column");

        assert_eq!(s.instructor_mobile(i.id).await.unwrap().as_str(), "13912345678");
        assert!(matches!(s.instructor_mobile(i.id + 1000).await, Err(StoreError::NotFound)));
        let found = s.instructor_by_mobile(&Mobile::parse("139 1234 5678").unwrap()).await.unwrap();
        assert_eq!(found.map(|f| f.id), Some(i.id));
        assert!(s.instructor_by_mobile(&Mobile::parse("13912345679").unwrap()).await.unwrap().is_none());

        // Two encryptions of one number differ; uniqueness goes by the blind index.
        match s.create_instructor(&draft("王芳", "13912345678"), &all()).await {
            Err(StoreError::Invalid(e)) => {
                assert_eq!((e.0[0].field.as_str(), e.0[0].code.as_str()), ("mobile", "duplicate"))
            }
            other => panic!("{other:?}"),
        }
        // An edit re-encrypts with a fresh nonce and keeps the index.
        let edited = s.update_instructor(i.id, &draft("李明明", "13912345678"), i.version, &all()).await.unwrap();
        let (again, index_again) = raw(s, i.id).await;
        assert_ne!(again, stored);
        assert_eq!(index_again, index);
        assert_eq!(edited.mobile_masked, "139****5678");

        // Import upserts by the blind index.
        let summary = s.import_instructors(&[(2, draft("李明明", "13912345678"))], false, &all()).await.unwrap();
        assert_eq!((summary.created, summary.updated, summary.unchanged), (0, 0, 1));
        let summary = s.import_instructors(&[(2, draft("李明", "139-1234-5678"))], false, &all()).await.unwrap();
        assert_eq!((summary.created, summary.updated, summary.unchanged), (0, 1, 0));

        // Exports: masked unless full disclosure is asked for.
        s.create_instructor(&draft("赵强", "13512345678"), &all()).await.unwrap();
        let masked = s.export_instructors(Disclosure::Masked, &all()).await.unwrap();
        assert_eq!(masked.iter().map(|e| e.mobile.as_str()).collect::<Vec<_>>(), ["135****5678", "139****5678"]);
        let full = s.export_instructors(Disclosure::Full, &all()).await.unwrap();
        assert_eq!(full.iter().map(|e| e.mobile.as_str()).collect::<Vec<_>>(), ["13512345678", "13912345678"]);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_store_without_keys_refuses_personal_data() {
    for db in all_backends().await {
        let i = db.store.create_instructor(&draft("李明", "13912345678"), &all()).await.unwrap();
        let keyless = Store::connect(&db.url).await.unwrap();
        assert!(keyless.keys().is_none());
        assert!(matches!(keyless.instructor(i.id).await, Err(StoreError::NoKeys)));
        assert!(matches!(
            keyless.create_instructor(&draft("王芳", "13512345678"), &all()).await,
            Err(StoreError::NoKeys)
        ));
        // Another keyring cannot read the data and says which record.
        let stranger = keyless.clone().with_keys(Arc::new(Keyring::generate()));
        match stranger.instructor_mobile(i.id).await {
            Err(e @ StoreError::FieldCipher { .. }) => {
                let message = e.to_string();
                assert!(
                    message.contains(&format!("instructors#{}", i.id)) && !message.contains("1391234"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        keyless.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn plain_text_left_from_before_is_encrypted_in_place_once() {
    for db in all_backends().await {
        let s = &db.store;
        let keys = keyring();
        let a = insert_legacy(s, "李明", "13912345678").await;
        let b = insert_legacy(s, "王芳", " 135-1234-5678 ").await;
        let current = s.create_instructor(&draft("赵强", "13712345678"), &all()).await.unwrap();
        let before = raw(s, current.id).await;

        assert_eq!(s.protect_legacy_plaintext(&keys).await.unwrap(), 2);
        for (id, number) in [(a, "13912345678"), (b, "13512345678")] {
            let (stored, index) = raw(s, id).await;
            assert!(stored.starts_with("v1.") && !stored.contains(number), "{stored}");
            assert_eq!(index.as_deref(), Some(keys.blind_index(number).as_str()));
            assert_eq!(s.instructor_mobile(id).await.unwrap().as_str(), number);
        }
        assert_eq!(raw(s, current.id).await, before, "values already encrypted are left alone");
        assert_eq!(s.protect_legacy_plaintext(&keys).await.unwrap(), 0);

        // Start-up does it too: `migrate` on a store with keys.
        let c = insert_legacy(s, "钱七", "18612345678").await;
        s.migrate().await.unwrap();
        assert!(raw(s, c).await.0.starts_with("v1."));
        // A legacy duplicate of a number now indexed is still caught by the unique index.
        assert!(matches!(
            s.create_instructor(&draft("孙八", "186 1234 5678"), &all()).await,
            Err(StoreError::Invalid(_))
        ));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn key_rotation_re_encrypts_in_batches_keeps_the_index_and_is_idempotent() {
    for db in all_backends().await {
        let old_keys = keyring();
        let numbers = ["13012345678", "13112345678", "13212345678", "13312345678", "13412345678"];
        let mut ids = Vec::new();
        for (n, number) in numbers.iter().enumerate() {
            ids.push(db.store.create_instructor(&draft(&format!("指导员{n}"), number), &all()).await.unwrap().id);
        }
        let mut before = Vec::new();
        for id in &ids {
            before.push(raw(&db.store, *id).await);
        }

        let mut new_keys = (*old_keys).clone();
        let new_id = new_keys.rotate();
        let new_keys = Arc::new(new_keys);
        let rotated_store = db.store.clone().with_keys(new_keys.clone());
        assert_eq!(rotated_store.count_values_needing_rotation(&new_keys).await.unwrap(), 5);
        assert_eq!(rotated_store.rotate_field_keys_in_batches(&new_keys, 2).await.unwrap(), 5);
        for ((id, number), (old_stored, old_index)) in ids.iter().zip(numbers).zip(&before) {
            let (stored, index) = raw(&db.store, *id).await;
            assert_ne!(&stored, old_stored, "re-encrypted");
            assert!(stored.starts_with(&format!("v1.sm4-gcm.{new_id}.")), "{stored}");
            assert_eq!(&index, old_index, "blind index unchanged");
            assert_eq!(rotated_store.instructor_mobile(*id).await.unwrap().as_str(), number);
            // The old keyring, which lacks the new key, can no longer read it: the old ciphertext is gone.
            assert!(old_keys.decrypt(&stored, "instructors.mobile").is_err());
        }
        assert_eq!(rotated_store.count_values_needing_rotation(&new_keys).await.unwrap(), 0);
        assert_eq!(rotated_store.rotate_field_keys(&new_keys).await.unwrap(), 0, "idempotent");

        // Switching the algorithm is a rotation too.
        let mut aes = (*new_keys).clone();
        aes.set_algorithm(Algorithm::Aes256Gcm);
        let aes_store = db.store.clone().with_keys(Arc::new(aes.clone()));
        assert_eq!(aes_store.rotate_field_keys(&aes).await.unwrap(), 5);
        assert!(raw(&db.store, ids[0]).await.0.starts_with(&format!("v1.aes-256-gcm.{new_id}.")));
        assert_eq!(aes_store.instructor_mobile(ids[0]).await.unwrap().as_str(), numbers[0]);
        let found = aes_store.instructor_by_mobile(&Mobile::parse(numbers[3]).unwrap()).await.unwrap();
        assert_eq!(found.map(|i| i.id), Some(ids[3]));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn rotation_refuses_a_keyring_with_another_index_key_or_missing_keys() {
    for db in all_backends().await {
        let i = db.store.create_instructor(&draft("李明", "13912345678"), &all()).await.unwrap();
        let before = raw(&db.store, i.id).await;

        // Same encryption keys, another index key: every lookup would miss, so nothing is touched.
        let text = keyring().to_text().to_string();
        let other_index = Keyring::generate().to_text().lines().find(|l| l.starts_with("idx1=")).unwrap().to_owned();
        let swapped: String = text
            .lines()
            .map(|l| if l.starts_with("idx1=") { other_index.clone() } else { l.to_owned() } + "\n")
            .collect();
        let mut wrong_index = Keyring::parse(&swapped, "test").unwrap();
        wrong_index.rotate();
        match db.store.rotate_field_keys(&wrong_index).await {
            Err(StoreError::Conflict { code, .. }) => assert_eq!(code, "index_key_mismatch"),
            other => panic!("{other:?}"),
        }
        // A keyring without the key the data was written with.
        let mut stranger = Keyring::generate();
        stranger.rotate();
        match db.store.rotate_field_keys(&stranger).await {
            Err(StoreError::FieldCipher { record, .. }) => assert_eq!(record, format!("instructors#{}", i.id)),
            other => panic!("{other:?}"),
        }
        assert_eq!(raw(&db.store, i.id).await, before);
        db.cleanup().await;
    }
}
