use baton_cpg::wire::{DecodeError, Packet};
use baton_cpg::{FRAGMENT_BYTES, NodeId, Reason, RingId};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9_-]{1,128}"
}

fn packet() -> impl Strategy<Value = Packet> {
    let reason = prop_oneof![
        Just(Reason::Join),
        Just(Reason::Leave),
        Just(Reason::NodeDown),
        Just(Reason::NodeUp),
        Just(Reason::ProcDown),
    ];
    prop_oneof![
        (name(), any::<u32>()).prop_map(|(group, pid)| Packet::Join { group, pid }),
        (name(), any::<u32>(), reason).prop_map(|(group, pid, reason)| Packet::Leave {
            group,
            pid,
            reason
        }),
        (
            name(),
            any::<u32>(),
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(any::<u8>(), 0..2000)
        )
            .prop_map(|(group, pid, more, continued, data)| Packet::Message {
                group,
                pid,
                more,
                continued,
                data
            }),
        (
            any::<u32>(),
            any::<u64>(),
            proptest::collection::vec((name(), any::<u32>()), 0..40)
        )
            .prop_map(|(rep, seq, entries)| Packet::JoinList {
                ring_id: RingId {
                    rep: NodeId(rep),
                    seq
                },
                entries
            }),
    ]
}

proptest! {
    #[test]
    fn every_packet_survives_a_round_trip(packet in packet()) {
        prop_assert_eq!(Packet::decode(&packet.encode()), Ok(packet));
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Packet::decode(&bytes);
    }

    #[test]
    fn every_truncation_is_an_error(packet in packet(), cut in 0usize..64) {
        let bytes = packet.encode();
        let keep = bytes.len().saturating_sub(cut + 1);
        if !matches!(packet, Packet::Message { .. }) {
            prop_assert!(Packet::decode(&bytes[..keep]).is_err());
        }
    }
}

#[test]
fn oversized_fragments_and_unknown_versions_are_refused() {
    let big = Packet::Message {
        group: "g".into(),
        pid: 1,
        more: false,
        continued: false,
        data: vec![0; FRAGMENT_BYTES + 1],
    };
    assert_eq!(
        Packet::decode(&big.encode()),
        Err(DecodeError::FragmentTooLarge(FRAGMENT_BYTES + 1))
    );
    let mut join = Packet::Join {
        group: "g".into(),
        pid: 1,
    }
    .encode();
    join[1] = 2;
    assert_eq!(Packet::decode(&join), Err(DecodeError::Version(2)));
}
