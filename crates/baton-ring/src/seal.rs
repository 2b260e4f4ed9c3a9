//! Packet sealing: random IV ‖ AES-CBC(PKCS#7) ciphertext ‖ HMAC over both
//! (encrypt-then-MAC). The MAC is checked in constant time before anything
//! is decrypted or parsed, so forged packets cost one HMAC and nothing else.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use baton_config::{CryptoCipher, CryptoHash};
use hmac::{Hmac, KeyInit, Mac};
use zeroize::Zeroizing;

/// Bytes of random IV in front of every encrypted packet.
pub const IV_LEN: usize = 16;

/// Why a sealer cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("crypto_hash {0} is not supported; use sha256 (or none)")]
    UnsupportedHash(&'static str),
    #[error("crypto_cipher {0} needs crypto_hash set too; add crypto_hash: sha256")]
    CipherWithoutHash(&'static str),
    #[error(
        "the authkey holds {have} bytes but {cipher} needs {need}; generate a new one with baton-keygen"
    )]
    KeyTooShort {
        cipher: &'static str,
        have: usize,
        need: usize,
    },
    #[error("the OS random source failed: {0}; check /dev/urandom")]
    Random(String),
}

/// Why a received packet was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("packet shorter than its IV and MAC")]
    Truncated,
    #[error("packet MAC does not match: wrong authkey or tampering")]
    BadMac,
    #[error("packet ciphertext is malformed")]
    BadCiphertext,
}

#[derive(Debug, Clone, Copy)]
enum Hash {
    None,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn len(self) -> usize {
        match self {
            Hash::None => 0,
            Hash::Sha1 => 20,
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

/// Seals and opens packets with one cluster key and crypto setting.
pub struct Sealer {
    cipher: CryptoCipher,
    hash: Hash,
    key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Sealer {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("cipher", &self.cipher.as_str())
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

fn cipher_key_len(cipher: CryptoCipher) -> usize {
    match cipher {
        CryptoCipher::None => 0,
        CryptoCipher::Aes128 => 16,
        CryptoCipher::Aes192 => 24,
        CryptoCipher::Aes256 => 32,
    }
}

macro_rules! hmac_of {
    ($digest:ty, $key:expr, $($part:expr),+) => {{
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<$digest> as KeyInit>::new_from_slice($key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        $(mac.update($part);)+
        mac
    }};
}

impl Sealer {
    pub fn new(cipher: CryptoCipher, hash: CryptoHash, key: &[u8]) -> Result<Sealer, SealError> {
        let hash = match hash {
            CryptoHash::None => Hash::None,
            CryptoHash::Sha1 => Hash::Sha1,
            CryptoHash::Sha256 => Hash::Sha256,
            CryptoHash::Sha384 => Hash::Sha384,
            CryptoHash::Sha512 => Hash::Sha512,
            other => return Err(SealError::UnsupportedHash(other.as_str())),
        };
        // Encryption without a MAC would let anyone flip plaintext bits.
        if cipher != CryptoCipher::None && matches!(hash, Hash::None) {
            return Err(SealError::CipherWithoutHash(cipher.as_str()));
        }
        let need = cipher_key_len(cipher);
        if key.len() < need {
            return Err(SealError::KeyTooShort {
                cipher: cipher.as_str(),
                have: key.len(),
                need,
            });
        }
        Ok(Sealer {
            cipher,
            hash,
            key: Zeroizing::new(key.to_vec()),
        })
    }

    /// Bytes a sealed packet adds to its payload at most.
    pub fn overhead(&self) -> usize {
        let cipher = if self.cipher == CryptoCipher::None {
            0
        } else {
            IV_LEN + 16
        };
        cipher + self.hash.len()
    }

    pub fn seal(&self, payload: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut out = if self.cipher == CryptoCipher::None {
            payload.to_vec()
        } else {
            let mut iv = [0u8; IV_LEN];
            getrandom::fill(&mut iv).map_err(|e| SealError::Random(e.to_string()))?;
            let ciphertext = self.encrypt(&iv, payload);
            let mut out = Vec::with_capacity(IV_LEN + ciphertext.len() + self.hash.len());
            out.extend_from_slice(&iv);
            out.extend_from_slice(&ciphertext);
            out
        };
        let tag = self.tag(&out);
        out.extend_from_slice(&tag);
        Ok(out)
    }

    pub fn open(&self, packet: &[u8]) -> Result<Vec<u8>, OpenError> {
        let body_len = packet
            .len()
            .checked_sub(self.hash.len())
            .ok_or(OpenError::Truncated)?;
        let (body, tag) = packet.split_at(body_len);
        self.verify(body, tag)?;
        if self.cipher == CryptoCipher::None {
            return Ok(body.to_vec());
        }
        if body.len() < IV_LEN + 16 {
            return Err(OpenError::Truncated);
        }
        let (iv, ciphertext) = body.split_at(IV_LEN);
        self.decrypt(iv, ciphertext)
    }

    fn cipher_key(&self) -> &[u8] {
        &self.key[..cipher_key_len(self.cipher)]
    }

    fn encrypt(&self, iv: &[u8; IV_LEN], payload: &[u8]) -> Vec<u8> {
        let key = self.cipher_key();
        // Key and IV lengths are fixed by construction, so init cannot fail.
        macro_rules! cbc_encrypt {
            ($aes:ty) => {
                cbc::Encryptor::<$aes>::new_from_slices(key, iv)
                    .unwrap_or_else(|_| unreachable!("key length checked in Sealer::new"))
                    .encrypt_padded_vec::<Pkcs7>(payload)
            };
        }
        match self.cipher {
            CryptoCipher::None => payload.to_vec(),
            CryptoCipher::Aes128 => cbc_encrypt!(aes::Aes128),
            CryptoCipher::Aes192 => cbc_encrypt!(aes::Aes192),
            CryptoCipher::Aes256 => cbc_encrypt!(aes::Aes256),
        }
    }

    fn decrypt(&self, iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, OpenError> {
        let key = self.cipher_key();
        let bad = |_| OpenError::BadCiphertext;
        let result = match self.cipher {
            CryptoCipher::None => return Ok(ciphertext.to_vec()),
            CryptoCipher::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(bad)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext),
            CryptoCipher::Aes192 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(bad)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext),
            CryptoCipher::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(bad)?
                .decrypt_padded_vec::<Pkcs7>(ciphertext),
        };
        result.map_err(|_| OpenError::BadCiphertext)
    }

    fn tag(&self, body: &[u8]) -> Vec<u8> {
        let key = &self.key[..];
        match self.hash {
            Hash::None => Vec::new(),
            Hash::Sha1 => hmac_of!(sha1::Sha1, key, body)
                .finalize()
                .into_bytes()
                .to_vec(),
            Hash::Sha256 => hmac_of!(sha2::Sha256, key, body)
                .finalize()
                .into_bytes()
                .to_vec(),
            Hash::Sha384 => hmac_of!(sha2::Sha384, key, body)
                .finalize()
                .into_bytes()
                .to_vec(),
            Hash::Sha512 => hmac_of!(sha2::Sha512, key, body)
                .finalize()
                .into_bytes()
                .to_vec(),
        }
    }

    /// Constant time: `verify_slice` compares without early exit.
    fn verify(&self, body: &[u8], tag: &[u8]) -> Result<(), OpenError> {
        let key = &self.key[..];
        let result = match self.hash {
            Hash::None => Ok(()),
            Hash::Sha1 => hmac_of!(sha1::Sha1, key, body).verify_slice(tag),
            Hash::Sha256 => hmac_of!(sha2::Sha256, key, body).verify_slice(tag),
            Hash::Sha384 => hmac_of!(sha2::Sha384, key, body).verify_slice(tag),
            Hash::Sha512 => hmac_of!(sha2::Sha512, key, body).verify_slice(tag),
        };
        result.map_err(|_| OpenError::BadMac)
    }
}
