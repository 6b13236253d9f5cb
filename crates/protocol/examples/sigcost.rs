//! What one Ed25519 signature and one check cost on this machine, one core (the office checks one
//! per pushed event and signs one receipt per stored event; README, "push ingest"): `ed25519-dalek`
//! as the office and the device use it, on 32-byte messages (an event's hash).
//!
//! Run: `cargo run --release -p heatcrew-protocol --example sigcost`

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use std::hint::black_box;
use std::time::Instant;

const N: usize = 20_000;

fn message(i: usize) -> [u8; 32] {
    let mut m = [3u8; 32];
    m[..8].copy_from_slice(&(i as u64).to_le_bytes());
    m
}

fn micros(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() / N as f64 * 1e6
}

fn main() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key();
    for round in 1..=3 {
        let started = Instant::now();
        let signatures: Vec<Signature> = (0..N).map(|i| key.sign(&message(i))).collect();
        let sign = micros(started);
        let started = Instant::now();
        for (i, s) in signatures.iter().enumerate() {
            public.verify(&message(i), s).expect("valid");
        }
        let verify = micros(started);
        let started = Instant::now();
        for (i, s) in signatures.iter().enumerate() {
            public.verify_strict(&message(i), s).expect("valid");
        }
        let strict = micros(started);
        let bytes = public.to_bytes();
        let started = Instant::now();
        for _ in 0..N {
            black_box(VerifyingKey::from_bytes(black_box(&bytes)).expect("a key"));
        }
        let decompress = micros(started);
        println!(
            "round {round}: sign {sign:.1} µs, verify {verify:.1} µs, verify_strict {strict:.1} µs, \
             public key read {decompress:.1} µs"
        );
    }
}
