use ed25519_dalek::{Signer, SigningKey, Verifier, Signature};
use std::time::Instant;
fn main() {
    let k = SigningKey::from_bytes(&[7; 32]);
    let vk = k.verifying_key();
    let msg = [3u8; 32];
    let n = 20000;
    for round in 0..3 {
        let t = Instant::now();
        let mut sigs = Vec::with_capacity(n);
        for i in 0..n { let mut m = msg; m[0] = i as u8; m[1] = (i>>8) as u8; sigs.push(k.sign(&m)); }
        let sign = t.elapsed().as_secs_f64() / n as f64 * 1e6;
        let t = Instant::now();
        for (i, s) in sigs.iter().enumerate() { let mut m = msg; m[0] = i as u8; m[1] = (i>>8) as u8; vk.verify(&m, s).unwrap(); }
        let ver = t.elapsed().as_secs_f64() / n as f64 * 1e6;
        let t = Instant::now();
        for (i, s) in sigs.iter().enumerate() { let mut m = msg; m[0] = i as u8; m[1] = (i>>8) as u8; vk.verify_strict(&m, s).unwrap(); }
        let vers = t.elapsed().as_secs_f64() / n as f64 * 1e6;
        let t = Instant::now();
        let b = vk.to_bytes();
        for _ in 0..n { std::hint::black_box(ed25519_dalek::VerifyingKey::from_bytes(std::hint::black_box(&b)).unwrap()); }
        let dec = t.elapsed().as_secs_f64() / n as f64 * 1e6;
        let _ = Signature::from_bytes(&sigs[0].to_bytes());
        println!("round {round}: sign {sign:.1} µs, verify {ver:.1} µs, verify_strict {vers:.1} µs, key decompress {dec:.1} µs");
    }
}
