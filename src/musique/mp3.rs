//! MP3 validation and duration by content: walks the MPEG audio frames of an upload held in memory.
//!
//! The rules, and why:
//! - An ID3v2 tag at the start is skipped by its declared size (plus footer); an ID3v1 tag and an
//!   APEv2 tag at the end are set aside before the walk.
//! - The first frame may sit up to [`MAX_LEAD`] bytes after the tags, because taggers leave padding
//!   beyond the size they declare. It is believed only when [`MIN_FRAMES`] frames of the same
//!   version, layer and sample rate follow it back to back (or two frames that are the whole file),
//!   so text, other formats and random bytes don't pass on a lucky `0xFFE` sync.
//! - Only Layer III is accepted; Layer I/II streams get their own error. Free-format (bitrate
//!   index 0) and reserved values fail the header, so such streams read as "not MPEG audio".
//! - Garbage between frames is skipped when a confirmed frame follows within [`MAX_GAP`] bytes;
//!   anything the walk can't resync over ends the audio, and what follows is ignored as trailing
//!   junk (Lyrics3 tags and the like), as players do.
//! - A file cut mid-frame is accepted when the walk had already confirmed the stream: the
//!   complete frames are counted and the cut one is dropped, as a player would play it. Only a
//!   cut before [`MIN_FRAMES`] complete frames is [`Mp3Error::Truncated`]. A last frame short by at
//!   most [`TAIL_SLACK`] bytes still counts, since some muxers drop the final padding byte.
//! - Duration is walked frames × samples per frame ÷ sample rate. A LAME/Lavf tag's encoder delay
//!   is subtracted; its end padding only when the walk found exactly the frames the Xing/Info
//!   header promised, because a truncated file's padding went with its missing tail.

use std::fmt;

/// Consecutive frames that make a frame sync believable.
const MIN_FRAMES: u64 = 3;
/// How far after the tags the first frame may start.
const MAX_LEAD: usize = 64 * 1024;
/// The longest run of garbage between two frames that the walk steps over.
const MAX_GAP: usize = 4 * 1024;
/// Bytes a final frame may lack and still count as complete.
const TAIL_SLACK: usize = 4;

/// What the frames of an MP3 file say about it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mp3Info {
    /// Playing time, gapless when the encoder recorded its delay and padding.
    pub duration_secs: f64,
    /// Audio frames walked, not counting a Xing/Info/VBRI header frame.
    pub frames: u64,
    pub sample_rate: u32,
    pub channels: u8,
    /// Average over the audio frames, rounded to the nearest kbps.
    pub bitrate_kbps: u32,
    /// Whether the audio frames use more than one bitrate.
    pub vbr: bool,
}

/// Why bytes are not an MP3 file we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mp3Error {
    /// No bytes at all.
    Empty,
    /// Tags (ID3, APE) and nothing else, or an ID3v2 tag that runs past the end.
    NoAudio,
    /// No run of MPEG audio frames: text, another format, random bytes, a free-format stream.
    NotMpegAudio,
    /// A real MPEG audio stream, but Layer I or II.
    NotLayer3 { layer: u8 },
    /// Frames begin, but the data ends before enough of them are complete.
    Truncated,
}

impl fmt::Display for Mp3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mp3Error::Empty => f.write_str("the file is empty"),
            Mp3Error::NoAudio => f.write_str("it holds tags but no audio frames"),
            Mp3Error::NotMpegAudio => f.write_str("no MPEG audio frames were found in it"),
            Mp3Error::NotLayer3 { layer } => {
                let name = if *layer == 1 { "I" } else { "II" };
                write!(
                    f,
                    "it is MPEG Layer {name} audio, and only Layer III (MP3) is accepted"
                )
            }
            Mp3Error::Truncated => f.write_str("it ends partway through its first audio frames"),
        }
    }
}

impl std::error::Error for Mp3Error {}

/// Validates `bytes` as an MP3 file and measures it by walking its frames.
pub fn inspect(bytes: &[u8]) -> Result<Mp3Info, Mp3Error> {
    if bytes.is_empty() {
        return Err(Mp3Error::Empty);
    }
    let audio = audio_region(bytes)?;
    if audio.is_empty() {
        return Err(Mp3Error::NoAudio);
    }
    let (first_pos, first) = find_first_frame(audio)?;
    if first.layer != 3 {
        return Err(Mp3Error::NotLayer3 { layer: first.layer });
    }
    let first_frame = audio.get(first_pos..first_pos + first.len).unwrap_or_default();
    let tag = vbr_tag(first_frame, &first);
    // The header frame decodes to silence that gapless players skip, so it is not audio.
    let audio_pos = if tag.is_some() {
        first_pos + first.len
    } else {
        first_pos
    };
    let walk = walk(audio, audio_pos, &first);
    if walk.frames == 0 {
        return Err(Mp3Error::NotMpegAudio);
    }

    let raw_samples = walk.frames * u64::from(first.samples());
    let mut trim = 0;
    if let Some(VbrTag {
        frames,
        gapless: Some((delay, padding)),
    }) = tag
    {
        trim = delay + if frames == Some(walk.frames) { padding } else { 0 };
    }
    let samples = if trim < raw_samples {
        raw_samples - trim
    } else {
        raw_samples
    };
    let rate = u64::from(first.sample_rate);
    // Bitrate over the untrimmed frames, so a CBR file reports its nominal rate exactly.
    let bitrate = (walk.bytes * 8 * rate + raw_samples * 500) / (raw_samples * 1000);
    Ok(Mp3Info {
        duration_secs: samples as f64 / rate as f64,
        frames: walk.frames,
        sample_rate: first.sample_rate,
        channels: first.channels,
        bitrate_kbps: u32::try_from(bitrate).unwrap_or(u32::MAX),
        vbr: walk.vbr,
    })
}

/// Whether a stream's first bytes begin an ID3v2 tag or an MPEG audio frame.
///
/// Meant for refusing non-MP3 uploads while they stream in; [`inspect`] has the final word. A
/// prefix too short to decide answers `true`. Unlike `inspect`, no leading junk is tolerated.
pub fn looks_like_mp3_start(prefix: &[u8]) -> bool {
    let n = prefix.len().min(3);
    if prefix[..n] == b"ID3"[..n] {
        return prefix.iter().enumerate().take(10).skip(3).all(|(i, &b)| match i {
            3 | 4 => b != 0xFF,
            5 => true,
            _ => b < 0x80,
        });
    }
    if prefix.len() < 4 {
        // The missing bytes come from a valid header, so only the bytes present are judged.
        let mut probe = [0xFF, 0xFB, 0x90, 0x00];
        probe[..prefix.len()].copy_from_slice(prefix);
        return Header::parse(&probe).is_some();
    }
    let Some(first) = Header::parse(prefix) else {
        return false;
    };
    // When the prefix reaches the next frame, it must continue the stream.
    match prefix.get(first.len..first.len + 4) {
        Some(next) => Header::parse(next).is_some_and(|h| h.same_stream(&first)),
        None => true,
    }
}

/// The bytes between the leading ID3v2 tags and the trailing APEv2/ID3v1 tags.
fn audio_region(bytes: &[u8]) -> Result<&[u8], Mp3Error> {
    let mut start = 0;
    while let Some(len) = id3v2_len(&bytes[start..]) {
        start += len;
        if start > bytes.len() {
            return Err(Mp3Error::NoAudio);
        }
    }
    let mut end = bytes.len();
    if end - start >= 128 && bytes[end - 128..].starts_with(b"TAG") {
        end -= 128;
    }
    if end - start >= 32 && bytes[end - 32..].starts_with(b"APETAGEX") {
        let footer = &bytes[end - 32..end];
        let size = le_u32(&footer[12..16]) as usize;
        let has_header = le_u32(&footer[20..24]) & (1 << 31) != 0;
        let total = size.saturating_add(if has_header { 32 } else { 0 });
        if total <= end - start {
            end -= total;
        }
    }
    Ok(&bytes[start..end])
}

/// The full length of an ID3v2 tag at the start of `bytes`, if one is there.
fn id3v2_len(bytes: &[u8]) -> Option<usize> {
    let h = bytes.get(..10)?;
    if &h[..3] != b"ID3" || h[3] == 0xFF || h[4] == 0xFF || h[6..10].iter().any(|&b| b >= 0x80) {
        return None;
    }
    let size = h[6..10]
        .iter()
        .fold(0usize, |acc, &b| (acc << 7) | usize::from(b));
    let footer = if h[3] >= 4 && h[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

/// The first frame that a run of frames confirms, within [`MAX_LEAD`] bytes.
fn find_first_frame(audio: &[u8]) -> Result<(usize, Header), Mp3Error> {
    let mut cut = false;
    let limit = audio.len().min(MAX_LEAD + 1);
    for pos in 0..limit {
        if audio[pos] != 0xFF {
            continue;
        }
        let Some(header) = audio.get(pos..).and_then(Header::parse) else {
            continue;
        };
        match confirm(audio, pos, &header) {
            Run::Stream => return Ok((pos, header)),
            Run::Cut => cut = true,
            Run::Broken => {}
        }
    }
    Err(if cut {
        Mp3Error::Truncated
    } else {
        Mp3Error::NotMpegAudio
    })
}

/// How a run of frames from a candidate sync ends.
enum Run {
    /// Enough frames, or two that are the whole file.
    Stream,
    /// At least two agreeing headers, then the data ends mid-frame.
    Cut,
    /// A header that is missing, invalid or from another stream.
    Broken,
}

/// Follows frames from a candidate sync until they are enough, break off, or the data ends.
fn confirm(audio: &[u8], mut pos: usize, first: &Header) -> Run {
    let mut complete = 0;
    loop {
        if complete >= MIN_FRAMES {
            return Run::Stream;
        }
        if pos == audio.len() {
            return if complete >= 2 { Run::Stream } else { Run::Broken };
        }
        let Some(h) = frame_at(audio, pos, first) else {
            return Run::Broken;
        };
        let next = pos + h.len;
        if next > audio.len() + TAIL_SLACK {
            return if complete >= 1 { Run::Cut } else { Run::Broken };
        }
        complete += 1;
        pos = next.min(audio.len());
    }
}

/// What walking the audio frames found.
struct Walk {
    frames: u64,
    bytes: u64,
    vbr: bool,
}

/// Counts the frames from `pos` to the end of the audio, stepping over short garbage.
fn walk(audio: &[u8], mut pos: usize, first: &Header) -> Walk {
    let mut walk = Walk {
        frames: 0,
        bytes: 0,
        vbr: false,
    };
    let mut bitrate = None;
    while pos < audio.len() {
        let Some(h) = frame_at(audio, pos, first) else {
            match resync(audio, pos, first) {
                Some(next) => {
                    pos = next;
                    continue;
                }
                None => break,
            }
        };
        let next = pos + h.len;
        if next > audio.len() + TAIL_SLACK {
            break;
        }
        walk.frames += 1;
        walk.bytes += h.len as u64;
        walk.vbr |= *bitrate.get_or_insert(h.bitrate_kbps) != h.bitrate_kbps;
        pos = next;
    }
    walk
}

/// The next frame after garbage at `pos`, if one within [`MAX_GAP`] bytes is followed by another.
fn resync(audio: &[u8], pos: usize, first: &Header) -> Option<usize> {
    let limit = audio.len().min(pos + MAX_GAP + 1);
    (pos + 1..limit).find(|&p| {
        audio[p] == 0xFF
            && frame_at(audio, p, first).is_some_and(|h| {
                let next = p + h.len;
                next == audio.len() || frame_at(audio, next, first).is_some()
            })
    })
}

/// A valid header at `pos` belonging to the same stream as `first`.
fn frame_at(audio: &[u8], pos: usize, first: &Header) -> Option<Header> {
    Header::parse(audio.get(pos..)?).filter(|h| h.same_stream(first))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Mpeg1,
    Mpeg2,
    Mpeg25,
}

/// A decoded MPEG audio frame header.
#[derive(Debug, Clone, Copy)]
struct Header {
    version: Version,
    layer: u8,
    bitrate_kbps: u32,
    sample_rate: u32,
    channels: u8,
    /// The whole frame, header and padding included.
    len: usize,
}

const BITRATES_V1_L1: [u32; 14] = [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448];
const BITRATES_V1_L2: [u32; 14] = [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384];
const BITRATES_V1_L3: [u32; 14] = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2_L1: [u32; 14] = [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256];
const BITRATES_V2_L23: [u32; 14] = [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

impl Header {
    /// Decodes the first four bytes, rejecting reserved, free-format and bad values.
    fn parse(bytes: &[u8]) -> Option<Header> {
        let &[b0, b1, b2, b3, ..] = bytes else {
            return None;
        };
        if b0 != 0xFF || b1 & 0xE0 != 0xE0 {
            return None;
        }
        let version = match (b1 >> 3) & 0b11 {
            0b00 => Version::Mpeg25,
            0b10 => Version::Mpeg2,
            0b11 => Version::Mpeg1,
            _ => return None,
        };
        let layer = match (b1 >> 1) & 0b11 {
            0b01 => 3,
            0b10 => 2,
            0b11 => 1,
            _ => return None,
        };
        let bitrate_index = usize::from(b2 >> 4);
        if bitrate_index == 0 || bitrate_index == 15 {
            return None;
        }
        let table = match (version, layer) {
            (Version::Mpeg1, 1) => &BITRATES_V1_L1,
            (Version::Mpeg1, 2) => &BITRATES_V1_L2,
            (Version::Mpeg1, _) => &BITRATES_V1_L3,
            (_, 1) => &BITRATES_V2_L1,
            _ => &BITRATES_V2_L23,
        };
        let bitrate_kbps = table[bitrate_index - 1];
        let base_rate = match (b2 >> 2) & 0b11 {
            0 => 44_100,
            1 => 48_000,
            2 => 32_000,
            _ => return None,
        };
        let sample_rate = match version {
            Version::Mpeg1 => base_rate,
            Version::Mpeg2 => base_rate / 2,
            Version::Mpeg25 => base_rate / 4,
        };
        // Emphasis 0b10 is reserved; no encoder writes it, so it marks a false sync.
        if b3 & 0b11 == 0b10 {
            return None;
        }
        let padded = u32::from((b2 >> 1) & 1);
        let channels = if b3 >> 6 == 0b11 { 1 } else { 2 };
        let bits = bitrate_kbps * 1000;
        let len = match (layer, version) {
            (1, _) => (12 * bits / sample_rate + padded) * 4,
            (2, _) | (3, Version::Mpeg1) => 144 * bits / sample_rate + padded,
            _ => 72 * bits / sample_rate + padded,
        };
        Some(Header {
            version,
            layer,
            bitrate_kbps,
            sample_rate,
            channels,
            len: len as usize,
        })
    }

    fn samples(&self) -> u32 {
        match (self.layer, self.version) {
            (1, _) => 384,
            (2, _) | (3, Version::Mpeg1) => 1152,
            _ => 576,
        }
    }

    /// Within one stream these never change, so a header that changes them is a false sync.
    fn same_stream(&self, other: &Header) -> bool {
        self.version == other.version && self.layer == other.layer && self.sample_rate == other.sample_rate
    }

    /// Bytes of Layer III side information, after which a Xing/Info header sits.
    fn side_info_len(&self) -> usize {
        match (self.version, self.channels) {
            (Version::Mpeg1, 1) => 17,
            (Version::Mpeg1, _) => 32,
            (_, 1) => 9,
            _ => 17,
        }
    }
}

/// A Xing/Info or VBRI header in the first frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct VbrTag {
    /// Audio frames the encoder wrote, excluding this one.
    frames: Option<u64>,
    /// Encoder delay and end padding, in samples, from a LAME-style tag.
    gapless: Option<(u64, u64)>,
}

fn vbr_tag(frame: &[u8], header: &Header) -> Option<VbrTag> {
    let xing = 4 + header.side_info_len();
    match frame.get(xing..xing + 8) {
        Some([b'X', b'i', b'n', b'g', flags @ ..] | [b'I', b'n', b'f', b'o', flags @ ..]) => {
            let flags = be_u32(flags);
            let mut at = xing + 8;
            let mut frames = None;
            if flags & 1 != 0 {
                frames = frame.get(at..at + 4).map(|b| u64::from(be_u32(b)));
                at += 4;
            }
            // Byte count, 100-entry seek table, quality: present or not by flag.
            for (bit, len) in [(2, 4), (4, 100), (8, 4)] {
                if flags & bit != 0 {
                    at += len;
                }
            }
            Some(VbrTag {
                frames,
                gapless: frame.get(at..).and_then(lame_gapless),
            })
        }
        _ => {
            // Fraunhofer's VBRI header always sits 32 bytes past the frame header.
            let vbri = frame.get(36..54)?;
            (&vbri[..4] == b"VBRI").then(|| VbrTag {
                frames: Some(u64::from(be_u32(&vbri[14..18]))),
                gapless: None,
            })
        }
    }
}

/// Encoder delay and padding from the LAME tag that LAME and FFmpeg write after the Xing header.
fn lame_gapless(tag: &[u8]) -> Option<(u64, u64)> {
    let encoder = tag.get(..4)?;
    if !matches!(encoder, b"LAME" | b"Lavf" | b"Lavc") {
        return None;
    }
    let packed = tag.get(21..24)?;
    let v = (u64::from(packed[0]) << 16) | (u64::from(packed[1]) << 8) | u64::from(packed[2]);
    Some((v >> 12, v & 0xFFF))
}

fn be_u32(b: &[u8]) -> u32 {
    b.iter().take(4).fold(0, |acc, &x| (acc << 8) | u32::from(x))
}

fn le_u32(b: &[u8]) -> u32 {
    b.iter()
        .take(4)
        .rev()
        .fold(0, |acc, &x| (acc << 8) | u32::from(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TONE_1S: &[u8] = include_bytes!("../../tests/fixtures/tone_1s.mp3");
    const TONE_3S_VBR: &[u8] = include_bytes!("../../tests/fixtures/tone_3s_vbr.mp3");
    const TONE_2S_22K: &[u8] = include_bytes!("../../tests/fixtures/tone_2s_22k.mp3");
    const SPEECH_1MB: &[u8] = include_bytes!("../../tests/fixtures/speech_like_1mb.mp3");
    const NOT_AUDIO: &[u8] = include_bytes!("../../tests/fixtures/not_audio.mp3");
    const TRUNCATED: &[u8] = include_bytes!("../../tests/fixtures/truncated.mp3");
    const WAVE: &[u8] = include_bytes!("../../tests/fixtures/wave.wav");

    /// MPEG-1 Layer III, 128 kbps, 44.1 kHz, joint stereo, unpadded: 417 bytes.
    const V1_L3_128: [u8; 4] = [0xFF, 0xFB, 0x90, 0x44];
    /// MPEG-1 Layer II, 160 kbps, 44.1 kHz: 522 bytes.
    const V1_L2_160: [u8; 4] = [0xFF, 0xFD, 0x90, 0x44];
    /// MPEG-2.5 Layer III, 32 kbps, 11.025 kHz, mono: 208 bytes.
    const V25_L3_32: [u8; 4] = [0xFF, 0xE3, 0x40, 0xC4];

    /// `count` frames with the given header and silent payload.
    fn frames(header: [u8; 4], count: usize) -> Vec<u8> {
        let len = Header::parse(&header).expect("test header is valid").len;
        let mut frame = vec![0; len];
        frame[..4].copy_from_slice(&header);
        frame.repeat(count)
    }

    /// A deterministic xorshift stream, so a failure can be replayed.
    fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    }

    fn id3v2(major: u8, flags: u8, body: usize) -> Vec<u8> {
        let size = [
            (body >> 21) as u8 & 0x7F,
            (body >> 14) as u8 & 0x7F,
            (body >> 7) as u8 & 0x7F,
            body as u8 & 0x7F,
        ];
        let mut tag = vec![b'I', b'D', b'3', major, 0, flags];
        tag.extend_from_slice(&size);
        tag.resize(10 + body, 0);
        tag
    }

    fn assert_close(actual: f64, expected: f64, what: &str) {
        assert!(
            (actual - expected).abs() < 0.05,
            "{what}: {actual} s, expected {expected} s"
        );
    }

    /// Name, bytes, seconds, frames, sample rate, channels, kbps, VBR: what the fixtures' README records.
    type Expected = (&'static str, &'static [u8], f64, u64, u32, u8, u32, bool);

    #[test]
    fn fixtures_report_their_encoded_duration_rate_and_channels() {
        let cases: [Expected; 4] = [
            ("tone_1s", TONE_1S, 1.0, 40, 44_100, 1, 64, false),
            ("tone_3s_vbr", TONE_3S_VBR, 3.0, 116, 44_100, 2, 52, true),
            ("tone_2s_22k", TONE_2S_22K, 2.0, 79, 22_050, 1, 64, false),
            ("speech_like_1mb", SPEECH_1MB, 65.0, 2490, 44_100, 2, 128, false),
        ];
        for (name, bytes, duration, frames, sample_rate, channels, kbps, vbr) in cases {
            let info = inspect(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_close(info.duration_secs, duration, name);
            assert_eq!(info.frames, frames, "{name}: frames");
            assert_eq!(info.sample_rate, sample_rate, "{name}: sample rate");
            assert_eq!(info.channels, channels, "{name}: channels");
            assert_eq!(info.bitrate_kbps, kbps, "{name}: bitrate");
            assert_eq!(info.vbr, vbr, "{name}: vbr");
            assert!(looks_like_mp3_start(&bytes[..4096]), "{name}: start");
        }
    }

    #[test]
    fn gapless_trim_is_exact_for_lame_files() {
        // LAME pads 1.000 s of input to whole frames; its tag says exactly how much.
        let info = inspect(TONE_1S).expect("tone_1s is an MP3");
        assert_eq!(info.duration_secs, 1.0);
        let info = inspect(TONE_2S_22K).expect("tone_2s_22k is an MP3");
        assert_eq!(info.duration_secs, 2.0);
    }

    #[test]
    fn without_its_info_frame_a_file_counts_every_frame() {
        let audio = audio_region(TONE_1S).expect("tags parse");
        let (pos, first) = find_first_frame(audio).expect("a first frame");
        let stripped = &audio[pos + first.len..];

        let info = inspect(stripped).expect("still an MP3");

        assert_eq!(info.frames, 40);
        assert_close(info.duration_secs, 40.0 * 1152.0 / 44_100.0, "untagged tone_1s");
    }

    #[test]
    fn the_truncated_fixture_keeps_its_complete_frames() {
        let info = inspect(TRUNCATED).expect("a cut file with many complete frames is accepted");

        assert!(
            info.frames < 116,
            "fewer frames than the Xing header promised: {}",
            info.frames
        );
        assert_eq!(info.frames, 42);
        // Delay is trimmed but not the end padding, which was in the missing tail.
        assert_eq!(info.duration_secs, (42.0 * 1152.0 - 576.0) / 44_100.0);
        assert_eq!((info.sample_rate, info.channels), (44_100, 2));
    }

    #[test]
    fn a_cut_before_enough_frames_is_truncated() {
        let audio = audio_region(TONE_1S).expect("tags parse");
        let (pos, first) = find_first_frame(audio).expect("a first frame");
        let cut = &audio[..pos + first.len + first.len / 2];

        assert_eq!(inspect(cut), Err(Mp3Error::Truncated));
    }

    #[test]
    fn a_last_frame_short_by_a_few_bytes_still_counts() {
        let mut bytes = frames(V1_L3_128, 5);
        bytes.truncate(bytes.len() - TAIL_SLACK);

        assert_eq!(inspect(&bytes).map(|i| i.frames), Ok(5));
    }

    #[test]
    fn non_mp3_content_is_rejected() {
        let cases: [(&[u8], Mp3Error, &str); 7] = [
            (b"", Mp3Error::Empty, "empty"),
            (NOT_AUDIO, Mp3Error::NotMpegAudio, "text renamed .mp3"),
            (WAVE, Mp3Error::NotMpegAudio, "a WAV file"),
            (&[0xFF, 0xFB], Mp3Error::NotMpegAudio, "a lone sync byte pair"),
            (
                &[0xFF, 0xFB, 0x90, 0x44, 0, 0, 0, 0],
                Mp3Error::NotMpegAudio,
                "a lone header",
            ),
            (
                &V1_L3_128.repeat(200),
                Mp3Error::NotMpegAudio,
                "headers without frames between them",
            ),
            (&[0; 4096], Mp3Error::NotMpegAudio, "zeros"),
        ];
        for (bytes, expected, what) in cases {
            assert_eq!(inspect(bytes), Err(expected), "{what}");
        }
    }

    #[test]
    fn random_bytes_are_rejected() {
        for seed in 1..200 {
            let bytes = random_bytes(seed, 8192);
            assert!(inspect(&bytes).is_err(), "seed {seed} passed as MP3");
        }
        assert!(
            inspect(&random_bytes(7, 10 << 20)).is_err(),
            "10 MB of noise passed as MP3"
        );
    }

    #[test]
    fn tags_without_audio_are_rejected() {
        let mut tag_only = id3v2(3, 0, 2000);
        assert_eq!(inspect(&tag_only), Err(Mp3Error::NoAudio), "ID3v2 alone");

        tag_only.truncate(500);
        assert_eq!(
            inspect(&tag_only),
            Err(Mp3Error::NoAudio),
            "ID3v2 running past the end"
        );

        let mut v1 = b"TAG".to_vec();
        v1.resize(128, b' ');
        assert_eq!(inspect(&v1), Err(Mp3Error::NoAudio), "ID3v1 alone");

        let text_after_tag = [id3v2(4, 0, 100), NOT_AUDIO.to_vec()].concat();
        assert_eq!(
            inspect(&text_after_tag),
            Err(Mp3Error::NotMpegAudio),
            "text after a tag"
        );
    }

    #[test]
    fn layer_one_and_two_have_their_own_error() {
        let layer1 = frames([0xFF, 0xFF, 0x90, 0x44], 10);

        assert_eq!(
            inspect(&frames(V1_L2_160, 10)),
            Err(Mp3Error::NotLayer3 { layer: 2 })
        );
        assert_eq!(inspect(&layer1), Err(Mp3Error::NotLayer3 { layer: 1 }));
        assert!(
            Mp3Error::NotLayer3 { layer: 2 }
                .to_string()
                .contains("Layer II audio")
        );
    }

    #[test]
    fn mpeg_2_5_uses_576_samples_per_frame() {
        let info = inspect(&frames(V25_L3_32, 100)).expect("MPEG-2.5 is MP3");

        assert_eq!((info.sample_rate, info.channels, info.frames), (11_025, 1, 100));
        assert_eq!(info.duration_secs, 100.0 * 576.0 / 11_025.0);
        assert_eq!((info.bitrate_kbps, info.vbr), (32, false));
    }

    #[test]
    fn header_sizes_match_the_standard_formula() {
        let len = |h: [u8; 4]| Header::parse(&h).map(|h| h.len);

        assert_eq!(len(V1_L3_128), Some(417));
        assert_eq!(len([0xFF, 0xFB, 0x92, 0x44]), Some(418), "padded");
        assert_eq!(len(V1_L2_160), Some(522));
        assert_eq!(len(V25_L3_32), Some(208));
        assert_eq!(len([0xFF, 0xFB, 0x00, 0x44]), None, "free format");
        assert_eq!(len([0xFF, 0xFB, 0xF0, 0x44]), None, "bitrate index 15");
        assert_eq!(len([0xFF, 0xFB, 0x9C, 0x44]), None, "sample-rate index 3");
        assert_eq!(len([0xFF, 0xEB, 0x90, 0x44]), None, "version 01 is reserved");
        assert_eq!(len([0xFF, 0xF9, 0x90, 0x44]), None, "layer 00 is reserved");
        assert_eq!(len([0xFF, 0xFB, 0x90, 0x46]), None, "emphasis 10 is reserved");
    }

    #[test]
    fn short_garbage_between_frames_is_skipped_and_long_garbage_ends_the_audio() {
        let short_gap = [frames(V1_L3_128, 10), vec![0x55; 300], frames(V1_L3_128, 10)].concat();
        let long_gap = [
            frames(V1_L3_128, 10),
            vec![0x55; MAX_GAP + 1],
            frames(V1_L3_128, 10),
        ]
        .concat();

        assert_eq!(inspect(&short_gap).map(|i| i.frames), Ok(20));
        assert_eq!(inspect(&long_gap).map(|i| i.frames), Ok(10));
    }

    #[test]
    fn a_change_of_sample_rate_is_not_the_same_stream() {
        let mut at_48k = V1_L3_128;
        at_48k[2] |= 0b0100;
        let bytes = [frames(V1_L3_128, 10), frames(at_48k, 10)].concat();

        assert_eq!(inspect(&bytes).map(|i| i.frames), Ok(10));
    }

    #[test]
    fn id3v2_footer_and_trailing_tags_are_set_aside() {
        let audio = frames(V1_L3_128, 6);
        let mut ape_footer = b"APETAGEX".to_vec();
        ape_footer.extend_from_slice(&2000u32.to_le_bytes());
        ape_footer.extend_from_slice(&(64u32 + 32).to_le_bytes());
        ape_footer.extend_from_slice(&0u32.to_le_bytes());
        ape_footer.extend_from_slice(&(1u32 << 31).to_le_bytes());
        ape_footer.resize(32, 0);
        let ape = [b"APETAGEX".to_vec(), vec![0; 24], vec![0xFF; 64], ape_footer].concat();
        let mut v1 = b"TAG".to_vec();
        v1.resize(128, 0xFF);
        let mut head = id3v2(4, 0x10, 300);
        head.extend_from_slice(b"3DI\x04\x00\x10\x00\x00\x02\x2C");
        let bytes = [head, audio.clone(), ape, v1].concat();

        assert_eq!(audio_region(&bytes), Ok(&audio[..]));
        assert_eq!(inspect(&bytes).map(|i| i.frames), Ok(6));
    }

    #[test]
    fn junk_before_the_first_frame_is_tolerated_by_inspect_only() {
        let bytes = [vec![0; 1000], TONE_3S_VBR.to_vec()].concat();
        let far = [vec![0; MAX_LEAD + 1], TONE_3S_VBR.to_vec()].concat();

        assert_eq!(inspect(&bytes).map(|i| i.frames), Ok(116));
        assert!(!looks_like_mp3_start(&bytes));
        assert_eq!(inspect(&far), Err(Mp3Error::NotMpegAudio));
    }

    #[test]
    fn vbri_header_frame_is_not_counted_as_audio() {
        let mut bytes = frames(V1_L3_128, 8);
        bytes[36..40].copy_from_slice(b"VBRI");
        bytes[50..54].copy_from_slice(&7u32.to_be_bytes());

        assert_eq!(inspect(&bytes).map(|i| i.frames), Ok(7));
    }

    #[test]
    fn stream_starts_are_recognised_from_a_prefix() {
        let cases: [(&[u8], bool, &str); 10] = [
            (&TONE_1S[..16], true, "ID3v2 tag"),
            (&TONE_3S_VBR[..16], true, "frame sync"),
            (
                &TONE_3S_VBR[..4096],
                true,
                "frame sync followed by a second frame",
            ),
            (b"ID", true, "too short to tell"),
            (
                b"ID3\xFF\x00\x00\x00\x00\x00\x00",
                false,
                "ID3 with a bad version",
            ),
            (b"ID3\x03\x00\x00\x80\x00\x00\x00", false, "ID3 with a bad size"),
            (&WAVE[..16], false, "RIFF header"),
            (&NOT_AUDIO[..16], false, "text"),
            (&[0xFF, 0xFB, 0xF0, 0x44, 0, 0, 0, 0], false, "bad bitrate index"),
            (
                &[V1_L3_128.to_vec(), vec![0; 500]].concat(),
                false,
                "no second frame where due",
            ),
        ];
        for (prefix, expected, what) in cases {
            assert_eq!(looks_like_mp3_start(prefix), expected, "{what}");
        }
    }

    #[test]
    fn errors_read_as_one_line() {
        for e in [
            Mp3Error::Empty,
            Mp3Error::NoAudio,
            Mp3Error::NotMpegAudio,
            Mp3Error::NotLayer3 { layer: 1 },
            Mp3Error::Truncated,
        ] {
            let text = e.to_string();
            assert!(
                !text.is_empty() && !text.contains('\n') && !text.ends_with('.'),
                "{e:?}: {text}"
            );
        }
    }
}
