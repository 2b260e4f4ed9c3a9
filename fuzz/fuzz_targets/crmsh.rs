#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = baton_crmsh::parse(&String::from_utf8_lossy(data));
});
