//! The client address dashboard changes are audited with: the socket peer unless a
//! trusted proxy forwarded for someone, so a forged `X-Forwarded-For` names no one.

use std::net::IpAddr;

use keyward::http::RequestHeaders;
use keyward::limit::ClientIpResolver;
use keyward_dashboard::Dashboard;
use keyward_testing::rig::rig;

struct Forwarded(&'static [u8]);

impl RequestHeaders for Forwarded {
    fn values(&self, name: &str) -> impl Iterator<Item = &[u8]> {
        (name == "x-forwarded-for").then_some(self.0).into_iter()
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[tokio::test]
async fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    let rig = rig();
    let forged = Forwarded(b"192.0.2.99");

    let by_default = Dashboard::new(&rig.keyward);
    assert_eq!(
        by_default.resolve_client_ip(Some(ip("203.0.113.5")), &forged),
        Some(ip("203.0.113.5"))
    );

    let behind_proxy =
        Dashboard::new(&rig.keyward).client_ip(ClientIpResolver::trust_forwarded_headers_from([
            "10.0.0.0/8".parse().unwrap(),
        ]));
    // From the proxy: the address it forwarded for.
    assert_eq!(
        behind_proxy.resolve_client_ip(Some(ip("10.1.2.3")), &forged),
        Some(ip("192.0.2.99"))
    );
    // From anyone else: the peer, whatever it claims.
    assert_eq!(
        behind_proxy.resolve_client_ip(Some(ip("203.0.113.5")), &forged),
        Some(ip("203.0.113.5"))
    );
    assert_eq!(behind_proxy.resolve_client_ip(None, &forged), None);
}
