//! PLACEHOLDER until the real module lands.
#[derive(Debug)]
pub struct Mp3Info {
    pub duration_secs: f64,
}
#[derive(Debug)]
pub struct Mp3Error;
impl std::fmt::Display for Mp3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("bad")
    }
}
pub fn inspect(_b: &[u8]) -> Result<Mp3Info, Mp3Error> {
    Ok(Mp3Info { duration_secs: 1.0 })
}
pub fn looks_like_mp3_start(_b: &[u8]) -> bool {
    true
}
