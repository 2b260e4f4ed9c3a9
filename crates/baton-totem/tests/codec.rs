//! The codec pairs: encode then decode is the identity, and no byte string
//! makes the decoder panic.

use std::sync::Arc;

use baton_totem::codec::{
    Body, CommitToken, DecodeError, Join, Mcast, McastContent, MemberEntry, OrfToken,
    PAYLOAD_BYTES_MAX, Packet, decode, encode,
};
use baton_totem::{NodeId, RTR_ENTRIES_MAX, RingId, Seq};
use proptest::prelude::*;

fn node() -> impl Strategy<Value = NodeId> {
    (1u32..).prop_map(NodeId)
}

fn ring() -> impl Strategy<Value = RingId> {
    (node(), any::<u64>()).prop_map(|(rep, seq)| RingId { seq, rep })
}

fn seq() -> impl Strategy<Value = Seq> {
    any::<u64>().prop_map(Seq)
}

fn payload() -> impl Strategy<Value = Arc<[u8]>> {
    prop::collection::vec(any::<u8>(), 0..512).prop_map(Arc::from)
}

fn token() -> impl Strategy<Value = OrfToken> {
    (
        (ring(), any::<u64>(), seq(), seq(), prop::option::of(node())),
        (
            seq(),
            seq(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
            any::<bool>(),
        ),
        prop::collection::vec(seq(), 0..=RTR_ENTRIES_MAX),
    )
        .prop_map(
            |(
                (ring_id, token_seq, seq, aru, aru_addr),
                (rotation_min_aru, safe_aru, backlog, fcc, retrans_flg, install),
                rtr_list,
            )| OrfToken {
                ring_id,
                token_seq,
                seq,
                aru,
                aru_addr,
                rotation_min_aru,
                safe_aru,
                backlog,
                fcc,
                retrans_flg,
                install,
                rtr_list,
            },
        )
}

fn mcast() -> impl Strategy<Value = Mcast> {
    let content = prop_oneof![
        payload().prop_map(McastContent::Application),
        (ring(), seq(), node(), payload()).prop_map(
            |(old_ring_id, old_seq, old_origin, payload)| {
                McastContent::Encapsulated {
                    old_ring_id,
                    old_seq,
                    old_origin,
                    payload,
                }
            }
        ),
    ];
    (ring(), seq(), node(), content).prop_map(|(ring_id, seq, origin, content)| Mcast {
        ring_id,
        seq,
        origin,
        content,
    })
}

fn commit() -> impl Strategy<Value = CommitToken> {
    let entry = (ring(), seq(), seq(), any::<bool>()).prop_map(
        |(old_ring_id, aru, high_delivered, received_flg)| MemberEntry {
            old_ring_id,
            aru,
            high_delivered,
            received_flg,
        },
    );
    (
        ring(),
        any::<u32>(),
        prop::collection::vec(node(), 0..20),
        prop::collection::vec(entry, 0..20),
    )
        .prop_map(|(ring_id, memb_index, addrs, mut entries)| {
            entries.truncate(addrs.len());
            CommitToken {
                ring_id,
                memb_index,
                addrs,
                entries,
            }
        })
}

fn packet() -> impl Strategy<Value = Packet> {
    let body = prop_oneof![
        token().prop_map(Body::Token),
        mcast().prop_map(Body::Mcast),
        ring().prop_map(|ring_id| Body::MergeDetect { ring_id }),
        (
            any::<u64>(),
            any::<bool>(),
            prop::collection::vec(node(), 0..20),
            prop::collection::vec(node(), 0..20)
        )
            .prop_map(
                |(ring_seq, leave, proc_list, failed_list)| Body::Join(Join {
                    ring_seq,
                    leave,
                    proc_list,
                    failed_list,
                })
            ),
        commit().prop_map(Body::Commit),
        ring().prop_map(|ring_id| Body::HoldCancel { ring_id }),
    ];
    (node(), body).prop_map(|(sender, body)| Packet { sender, body })
}

proptest! {
    #[test]
    fn encode_then_decode_is_identity(packet in packet()) {
        prop_assert_eq!(decode(&encode(&packet)), Ok(packet));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn every_truncation_of_a_valid_packet_is_an_error(packet in packet()) {
        let bytes = encode(&packet);
        for len in 0..bytes.len() {
            prop_assert!(decode(&bytes[..len]).is_err());
        }
    }
}

#[test]
fn oversized_lengths_are_refused_before_allocation() {
    let packet = Packet {
        sender: NodeId(1),
        body: Body::Mcast(Mcast {
            ring_id: RingId {
                seq: 4,
                rep: NodeId(1),
            },
            seq: Seq(1),
            origin: NodeId(1),
            content: McastContent::Application(Arc::from(&b""[..])),
        }),
    };
    let mut bytes = encode(&packet);
    let len_at = bytes.len() - 4;
    bytes[len_at..].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::TooLong {
            field: "payload",
            len: u64::from(u32::MAX),
            max: PAYLOAD_BYTES_MAX,
        })
    );
}

#[test]
fn foreign_magic_and_versions_are_refused() {
    assert_eq!(
        decode(&[0xC0, 0x70, 3, 0]),
        Err(DecodeError::BadMagic(0x70C0))
    );
    let mut bytes = encode(&Packet {
        sender: NodeId(2),
        body: Body::HoldCancel {
            ring_id: RingId {
                seq: 8,
                rep: NodeId(1),
            },
        },
    });
    bytes[2] = 9;
    assert_eq!(decode(&bytes), Err(DecodeError::BadVersion(9)));
}
