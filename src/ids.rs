//! Random identifiers and secrets: request ids, resource ids, keys and signing secrets.

/// A new random alphanumeric string (lowercase letters and digits), from the thread's CSPRNG.
pub fn random_alnum(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
