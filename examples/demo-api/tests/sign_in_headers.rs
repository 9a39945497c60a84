//! Every answer of the demo's sign-in carries the security headers its pages do,
//! redirects included.

use keyward::store::MemoryStore;
use keyward::{ConfigFile, Keyward};
use keyward_demo_api::{DemoApi, SignIn};

#[test]
fn redirects_carry_the_security_headers() {
    let file = ConfigFile::demo();
    let keyward = Keyward::from_config(&file)
        .store(MemoryStore::new())
        .build()
        .unwrap();
    let sign_in = SignIn::new(&DemoApi::new(
        keyward.clone(),
        file.management_api(&keyward),
    ));
    let form = Some(&b"application/x-www-form-urlencoded"[..]);
    for answer in [
        sign_in.sign_in(std::iter::empty(), form, b"user=u_1"),
        sign_in.sign_out(std::iter::empty()),
        sign_in.settings(),
        sign_in.login_page(),
    ] {
        for name in [
            "content-security-policy",
            "x-frame-options",
            "referrer-policy",
            "x-content-type-options",
            "cache-control",
        ] {
            assert!(
                answer.headers.iter().any(|(n, _)| *n == name),
                "{} answer without {name}",
                answer.status
            );
        }
    }
}
