//! Which algorithm a stored hash string names, and verification by that algorithm.
//!
//! Every hasher verifies through [`verify_any`], with the parameters the string
//! carries rather than its own, so that switching algorithm or cost never strands
//! existing keys.

use crate::error::HashError;
use crate::{argon2id, bcrypt};

/// The algorithms a stored hash string may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// `$2a$`, `$2b$`, `$2y$` (not `$2x$`: the marker of crypt_blowfish's sign-extension
    /// bug, which the bcrypt crate does not reproduce).
    Bcrypt,
    /// `$argon2id$`, `$argon2i$`, `$argon2d$`.
    Argon2,
}

impl Scheme {
    fn of(hash: &str) -> Option<Scheme> {
        const BCRYPT: [&str; 3] = ["$2a$", "$2b$", "$2y$"];
        const ARGON2: [&str; 3] = ["$argon2id$", "$argon2i$", "$argon2d$"];
        if BCRYPT.iter().any(|p| hash.starts_with(p)) {
            Some(Scheme::Bcrypt)
        } else if ARGON2.iter().any(|p| hash.starts_with(p)) {
            Some(Scheme::Argon2)
        } else {
            None
        }
    }
}

/// Verifies `secret` against a hash of any supported scheme.
pub(crate) fn verify_any(secret: &[u8], hash: &str) -> Result<bool, HashError> {
    match Scheme::of(hash) {
        Some(Scheme::Bcrypt) => bcrypt::verify(secret, hash),
        Some(Scheme::Argon2) => argon2id::verify(secret, hash),
        None => Err(HashError::MalformedHash),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Argon2idHasher, BcryptHasher, HashError, SecretHasher};

    /// A secret shaped like keyward's: 32 base62 bytes.
    const SECRET: &[u8] = b"Vq3xK9LmZ2pR7tY1wE5uI8oA4sD6fG0h";

    fn bcrypt_low() -> BcryptHasher {
        BcryptHasher::new(4).unwrap()
    }

    fn argon_low() -> Argon2idHasher {
        Argon2idHasher::new(256, 1, 1).unwrap()
    }

    fn hashers() -> [Box<dyn SecretHasher>; 2] {
        [Box::new(bcrypt_low()), Box::new(argon_low())]
    }

    #[test]
    fn round_trips_both_algorithms() {
        for hasher in hashers() {
            let hash = hasher.hash(SECRET).unwrap();
            assert!(hasher.verify(SECRET, &hash).unwrap(), "{hash}");
            assert!(!hasher.needs_rehash(&hash), "{hash}");
            // Fresh salt each time.
            assert_ne!(hasher.hash(SECRET).unwrap(), hash);
        }
    }

    #[test]
    fn hash_strings_name_algorithm_and_parameters() {
        let b = bcrypt_low().hash(SECRET).unwrap();
        assert!(b.starts_with("$2b$04$"), "{b}");
        assert_eq!(b.len(), 60);
        let a = argon_low().hash(SECRET).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{a}");
        // 16-byte salt, 32-byte output, unpadded base64.
        let fields: Vec<&str> = a.split('$').collect();
        assert_eq!((fields[4].len(), fields[5].len()), (22, 43), "{a}");
    }

    #[test]
    fn wrong_secret_is_false_not_an_error() {
        for hasher in hashers() {
            let hash = hasher.hash(SECRET).unwrap();
            assert_eq!(
                hasher.verify(b"Vq3xK9LmZ2pR7tY1wE5uI8oA4sD6fG0i", &hash),
                Ok(false)
            );
            assert_eq!(hasher.verify(b"", &hash), Ok(false));
        }
    }

    #[test]
    fn cross_algorithm_verify() {
        let b = bcrypt_low();
        let a = argon_low();
        let from_bcrypt = b.hash(SECRET).unwrap();
        let from_argon = a.hash(SECRET).unwrap();
        assert_eq!(a.verify(SECRET, &from_bcrypt), Ok(true));
        assert_eq!(b.verify(SECRET, &from_argon), Ok(true));
        assert_eq!(a.verify(b"nope", &from_bcrypt), Ok(false));
        assert_eq!(b.verify(b"nope", &from_argon), Ok(false));
        // Each verifies with the cost in the string, not its own.
        let costlier = BcryptHasher::new(5).unwrap().hash(SECRET).unwrap();
        assert_eq!(b.verify(SECRET, &costlier), Ok(true));
        assert_eq!(a.verify(SECRET, &costlier), Ok(true));
    }

    #[test]
    fn needs_rehash_on_algorithm_change() {
        let b = bcrypt_low().hash(SECRET).unwrap();
        let a = argon_low().hash(SECRET).unwrap();
        assert!(argon_low().needs_rehash(&b));
        assert!(bcrypt_low().needs_rehash(&a));
    }

    #[test]
    fn malformed_hashes_are_typed_errors() {
        let good_argon = argon_low().hash(SECRET).unwrap();
        let good_bcrypt = bcrypt_low().hash(SECRET).unwrap();
        let cut_before_output = good_argon.rsplit_once('$').unwrap().0.to_owned();
        let (cut_before_salt, salt) = cut_before_output.rsplit_once('$').unwrap();
        let cut_before_salt = cut_before_salt.to_owned();
        let malformed = [
            String::new(),
            "$2b$".to_owned(),
            "$2b$04$".to_owned(),
            good_bcrypt[..59].to_owned(),
            format!("{good_bcrypt}x"),
            // Cost out of bcrypt's range.
            good_bcrypt.replacen("$04$", "$99$", 1),
            good_bcrypt.replacen("$04$", "$03$", 1),
            "garbage".to_owned(),
            "$".to_owned(),
            "$$$$".to_owned(),
            "$argon2id$".to_owned(),
            "$argon2id$v=19$m=256,t=1".to_owned(),
            cut_before_salt,
            cut_before_output.clone(),
            format!("{cut_before_output}$"),
            format!("{good_argon}$extra"),
            // Unknown argon2 version, parameter out of range, unknown parameter.
            good_argon.replacen("v=19", "v=99", 1),
            good_argon.replacen("t=1", "t=0", 1),
            good_argon.replacen("p=1", "p=1,q=2", 1),
            // Non-ASCII where base64 belongs.
            good_argon.replacen(salt, &format!("é{}", &salt[2..]), 1),
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E".to_owned(),
            "$pbkdf2-sha256$29000$N2ZMKeTc2xsjxJgT4vwf4w$3W7wFbT.Dz.EltJ8f3c9l3Ia1dsGTl1H3Ssq5ZSpWvE".to_owned(),
            "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/".to_owned(),
            "$2x$".to_owned(),
        ];
        for hash in &malformed {
            for hasher in hashers() {
                assert_eq!(
                    hasher.verify(SECRET, hash),
                    Err(HashError::MalformedHash),
                    "{hash:?}"
                );
                assert!(hasher.needs_rehash(hash), "{hash:?}");
            }
        }
    }

    #[test]
    fn nothing_prints_the_secret() {
        let secret = std::str::from_utf8(SECRET).unwrap();
        let mut shown = vec![
            format!("{:?}", bcrypt_low()),
            format!("{:?}", argon_low()),
            format!("{:?}", BcryptHasher::default()),
            format!("{:#?}", Argon2idHasher::default()),
        ];
        for hasher in hashers() {
            let hash = hasher.hash(SECRET).unwrap();
            shown.push(hash.clone());
            for bad in ["", "$2b$", "$argon2id$v=19$m=256,t=1,p=1", "$scrypt$x"] {
                let e = hasher.verify(SECRET, bad).unwrap_err();
                shown.push(format!("{e} {e:?}"));
            }
            let e = hasher.hash(&[b'x'; 100]);
            shown.push(format!("{e:?}"));
        }
        let e = BcryptHasher::new(2).unwrap_err();
        shown.push(format!("{e} {e:?}"));
        let e = Argon2idHasher::new(1, 1, 1).unwrap_err();
        shown.push(format!("{e} {e:?}"));
        for s in shown {
            assert!(!s.contains(secret), "{s}");
            assert!(!s.contains("xxxxxxxx"), "{s}");
        }
    }
}
