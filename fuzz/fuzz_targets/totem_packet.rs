#![no_main]
// Feeds arbitrary bytes to the Totem packet decoder: it must return a packet
// or an error, never panic, and never allocate beyond its length bounds.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = baton_totem::codec::decode(data) {
        // What we accept must survive our own encoder unchanged.
        assert_eq!(baton_totem::codec::decode(&baton_totem::codec::encode(&packet)), Ok(packet));
    }
});
