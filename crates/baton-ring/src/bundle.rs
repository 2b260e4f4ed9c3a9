//! Several small payloads packed into one ring message, so that under load
//! one Totem message (one seal, one datagram per peer, one sequence number)
//! carries many client messages. The receiver unpacks a bundle and hands on
//! its payloads in order, as if each had been delivered alone: the agreed
//! order is unchanged. Layout: tag=3, then (len:u32 payload)* to the end.

/// First payload byte of a bundle (votequorum uses 1, process groups 2).
pub const TAG_BUNDLE: u8 = 3;
/// Bundles are filled up to this many bytes: a few Ethernet frames, so a
/// lost fragment costs little to retransmit.
pub const BUNDLE_BYTES: usize = 8 * 1024;
const LEN_BYTES: usize = 4;

/// Packs payloads that together fit [`BUNDLE_BYTES`]; a payload that does
/// not fit is left for the next bundle. Takes at least one payload; a lone
/// payload is returned as it is, without framing, unless it could be taken
/// for a bundle.
pub fn pack(queue: &mut std::collections::VecDeque<Vec<u8>>) -> Option<Vec<u8>> {
    let first = queue.pop_front()?;
    let fits = |used: usize, next: &[u8]| used + LEN_BYTES + next.len() <= BUNDLE_BYTES;
    let alone = queue
        .front()
        .is_none_or(|next| !fits(1 + LEN_BYTES + first.len(), next));
    if alone && first.first() != Some(&TAG_BUNDLE) {
        return Some(first);
    }
    let mut bundle = Vec::with_capacity(BUNDLE_BYTES);
    bundle.push(TAG_BUNDLE);
    put(&mut bundle, &first);
    while let Some(next) = queue.front() {
        if !fits(bundle.len(), next) {
            break;
        }
        if let Some(next) = queue.pop_front() {
            put(&mut bundle, &next);
        }
    }
    Some(bundle)
}

fn put(bundle: &mut Vec<u8>, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(payload);
}

/// The payloads a delivered ring message carries: a bundle's parts, or the
/// message itself. `None` for a malformed bundle (which is dropped whole).
#[must_use]
pub fn unpack(message: &[u8]) -> Option<Vec<&[u8]>> {
    let Some((&TAG_BUNDLE, mut rest)) = message.split_first() else {
        return Some(vec![message]);
    };
    let mut parts = Vec::new();
    while !rest.is_empty() {
        let (len, after) = rest.split_at_checked(LEN_BYTES)?;
        let len = usize::try_from(u32::from_be_bytes(len.try_into().ok()?)).ok()?;
        let (part, after) = after.split_at_checked(len)?;
        parts.push(part);
        rest = after;
    }
    (!parts.is_empty()).then_some(parts)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_lone_payload_travels_unframed() {
        let mut queue = VecDeque::from([vec![2, 1, 1]]);
        assert_eq!(pack(&mut queue), Some(vec![2, 1, 1]));
        assert_eq!(unpack(&[2, 1, 1]), Some(vec![&[2u8, 1, 1][..]]));
        assert_eq!(pack(&mut queue), None);
    }

    #[test]
    fn small_payloads_share_a_bundle_until_it_is_full() {
        let mut queue: VecDeque<Vec<u8>> = (0..20u8).map(|i| vec![i; 1000]).collect();
        let first = pack(&mut queue).expect("a bundle");
        assert!(first.len() <= BUNDLE_BYTES);
        let parts = unpack(&first).expect("valid");
        assert_eq!(parts.len(), 8);
        assert!(
            parts
                .iter()
                .enumerate()
                .all(|(i, p)| p == &vec![i as u8; 1000])
        );
        assert_eq!(queue.len(), 12);
    }

    #[test]
    fn a_payload_bigger_than_a_bundle_goes_alone() {
        let mut queue = VecDeque::from([vec![2; 10], vec![2; 20_000], vec![2; 10]]);
        assert_eq!(pack(&mut queue), Some(vec![2; 10]));
        assert_eq!(pack(&mut queue), Some(vec![2; 20_000]));
    }

    #[test]
    fn truncated_bundles_are_refused() {
        let mut queue = VecDeque::from([vec![1; 5], vec![2; 5]]);
        let bundle = pack(&mut queue).expect("a bundle");
        for cut in 1..bundle.len() {
            let parts = unpack(&bundle[..cut]);
            assert!(
                parts.is_none() || parts.is_some_and(|p| p.len() == 1 && cut == 10),
                "cut {cut}"
            );
        }
    }

    proptest! {
        #[test]
        fn unpack_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = unpack(&bytes);
        }

        #[test]
        fn packing_keeps_every_payload_in_order(
            sizes in proptest::collection::vec(0usize..3000, 1..40)
        ) {
            let payloads: Vec<Vec<u8>> = sizes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let mut p = vec![(i % 5) as u8; *n + 2];
                    p[1] = (i % 251) as u8;
                    p
                })
                .collect();
            let mut queue: VecDeque<Vec<u8>> = payloads.iter().cloned().collect();
            let mut out = Vec::new();
            while let Some(message) = pack(&mut queue) {
                prop_assert!(message.len() <= BUNDLE_BYTES.max(3002 + 1 + 4));
                out.extend(unpack(&message).expect("valid").into_iter().map(<[u8]>::to_vec));
            }
            prop_assert_eq!(out, payloads);
        }
    }
}
