use baton_config::{CryptoCipher, CryptoHash};
use proptest::prelude::*;

use crate::seal::{OpenError, Sealer};

const CIPHERS: [CryptoCipher; 4] = [
    CryptoCipher::None,
    CryptoCipher::Aes128,
    CryptoCipher::Aes192,
    CryptoCipher::Aes256,
];
const HASHES: [CryptoHash; 5] = [
    CryptoHash::None,
    CryptoHash::Sha1,
    CryptoHash::Sha256,
    CryptoHash::Sha384,
    CryptoHash::Sha512,
];

fn key(byte: u8) -> Vec<u8> {
    (0..256u32).map(|i| (i as u8) ^ byte).collect()
}

/// Every valid pairing: a cipher always needs a MAC.
fn sealers(byte: u8) -> Vec<Sealer> {
    let mut all = Vec::new();
    for cipher in CIPHERS {
        for hash in HASHES {
            if let Ok(s) = Sealer::new(cipher, hash, &key(byte)) {
                all.push(s);
            }
        }
    }
    all
}

#[test]
fn every_pairing_round_trips() {
    let all = sealers(0);
    assert_eq!(all.len(), 4 * 4 + 1);
    for sealer in &all {
        for len in [0, 1, 15, 16, 17, 1400] {
            let payload = vec![0xa5; len];
            let packet = sealer.seal(&payload).expect("seal");
            assert!(packet.len() <= len + sealer.overhead());
            assert_eq!(
                sealer.open(&packet).as_deref(),
                Ok(&payload[..]),
                "{sealer:?}"
            );
        }
    }
}

#[test]
fn cipher_without_mac_is_refused() {
    assert!(Sealer::new(CryptoCipher::Aes256, CryptoHash::None, &key(0)).is_err());
    assert!(Sealer::new(CryptoCipher::Aes256, CryptoHash::Md5, &key(0)).is_err());
}

#[test]
fn any_flipped_bit_is_rejected() {
    for sealer in sealers(0).iter().filter(|s| s.overhead() > 0) {
        let packet = sealer.seal(b"totem packet").expect("seal");
        for bit in 0..packet.len() * 8 {
            let mut bad = packet.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                sealer.open(&bad),
                Err(OpenError::BadMac),
                "{sealer:?} bit {bit}"
            );
        }
    }
}

#[test]
fn wrong_key_and_truncation_are_rejected() {
    for (ours, theirs) in sealers(0).iter().zip(sealers(1).iter()) {
        if ours.overhead() == 0 {
            continue;
        }
        let packet = ours.seal(b"hello").expect("seal");
        assert!(theirs.open(&packet).is_err(), "{ours:?}");
        for len in 0..packet.len() {
            assert!(ours.open(&packet[..len]).is_err(), "{ours:?} len {len}");
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        for sealer in sealers(0) {
            let opened = sealer.open(&bytes);
            if sealer.overhead() > 0 {
                prop_assert!(opened.is_err());
            }
        }
    }
}
