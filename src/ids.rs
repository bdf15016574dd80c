//! Random identifiers and secrets: request ids, resource ids, keys and signing secrets.

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Fills `out` with random lowercase letters and digits from the thread's CSPRNG.
pub fn fill_alnum(out: &mut [u8]) {
    use rand::Rng;
    let mut rng = rand::rng();
    for byte in out {
        *byte = ALPHABET[rng.random_range(0..ALPHABET.len())];
    }
}

/// A new random alphanumeric string (lowercase letters and digits), from the thread's CSPRNG.
pub fn random_alnum(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    fill_alnum(&mut bytes);
    // Only ASCII was written.
    bytes.into_iter().map(char::from).collect()
}
