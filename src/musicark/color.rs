//! OKLCH colour maths for MusicArk's colour identity and colour search: sRGB hex ↔ OKLab ↔ OKLCH
//! with Björn Ottosson's matrices, and the ΔEOK distance of spec §3, all in `f64` and `std` only.

/// A colour in OKLCH: lightness `l` in 0–1, chroma `c` ≥ 0, hue `h` in degrees, in [0, 360).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Oklch {
    pub l: f64,
    pub c: f64,
    pub h: f64,
}

/// At or below this chroma the hue is noise, so the API reports `oklch_hue: null` (spec §3).
pub const ACHROMATIC_CHROMA: f64 = 4e-6;

/// Whether a colour of chroma `c` has a meaningful hue.
pub fn hue_is_defined(c: f64) -> bool {
    c > ACHROMATIC_CHROMA
}

/// Parses `#rrggbb` or `rrggbb`, either case.
pub fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let digits = s.strip_prefix('#').unwrap_or(s);
    // from_str_radix alone would accept a leading '+', so insist on six hex digits first.
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |at: usize| u8::from_str_radix(&digits[at..at + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// Formats a colour the way the API spells it: `#rrggbb`, lowercase.
pub fn format_hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// Converts an sRGB colour to OKLCH. The hue of a grey is whatever `atan2` makes of rounding
/// noise; check [`hue_is_defined`] before trusting it.
pub fn hex_to_oklch(rgb: [u8; 3]) -> Oklch {
    let [r, g, b] = rgb.map(|v| srgb_to_linear(f64::from(v) / 255.0));
    let [l, a, b] = linear_to_oklab([r, g, b]);
    Oklch {
        l,
        c: a.hypot(b),
        h: normalize_hue(b.atan2(a).to_degrees()),
    }
}

/// Converts OKLCH to the nearest sRGB colour. Out-of-gamut colours keep their lightness and hue
/// and lose chroma (found by bisection) until they fit, which keeps a generated colour's
/// character instead of clipping it towards another hue.
pub fn oklch_to_hex(o: Oklch) -> [u8; 3] {
    if o.l <= 0.0 {
        return [0, 0, 0];
    }
    if o.l >= 1.0 {
        return [255, 255, 255];
    }
    let mut rgb = oklch_to_linear(o.l, o.c.max(0.0), o.h);
    if !in_gamut(rgb) {
        let (mut inside, mut outside) = (0.0, o.c);
        for _ in 0..40 {
            let mid = (inside + outside) / 2.0;
            if in_gamut(oklch_to_linear(o.l, mid, o.h)) {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        rgb = oklch_to_linear(o.l, inside, o.h);
    }
    rgb.map(|v| {
        (linear_to_srgb(v.clamp(0.0, 1.0)) * 255.0)
            .round()
            .clamp(0.0, 255.0) as u8
    })
}

/// 100 × ΔEOK (CSS Color 4's Euclidean distance in OKLab), in the closed form over OKLCH that
/// spec §3 gives: `100·sqrt(ΔL² + ΔC² + 4·C1·C2·sin²(Δh/2))`. Since a² + b² terms expand to
/// ΔC² + 4·C1·C2·sin²(Δh/2), the hue wraps by itself and a grey (C = 0) ignores its hue.
pub fn distance(a: Oklch, b: Oklch) -> f64 {
    let dl = a.l - b.l;
    let dc = a.c - b.c;
    let half_sin = ((a.h - b.h).to_radians() / 2.0).sin();
    100.0 * (dl * dl + dc * dc + 4.0 * a.c * b.c * half_sin * half_sin).sqrt()
}

fn normalize_hue(h: f64) -> f64 {
    let h = h.rem_euclid(360.0);
    // rem_euclid can return 360.0 itself for a tiny negative input.
    if h >= 360.0 { 0.0 } else { h }
}

fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(v: f64) -> f64 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// Ottosson's M1 (linear sRGB → LMS), cube root, then M2 (LMS' → OKLab).
fn linear_to_oklab([r, g, b]: [f64; 3]) -> [f64; 3] {
    let l = (0.412_221_470_8 * r + 0.536_332_536_3 * g + 0.051_445_992_9 * b).cbrt();
    let m = (0.211_903_498_2 * r + 0.680_699_545_1 * g + 0.107_396_956_6 * b).cbrt();
    let s = (0.088_302_461_9 * r + 0.281_718_837_6 * g + 0.629_978_700_5 * b).cbrt();
    [
        0.210_454_255_3 * l + 0.793_617_785_0 * m - 0.004_072_046_8 * s,
        1.977_998_495_1 * l - 2.428_592_205_0 * m + 0.450_593_709_9 * s,
        0.025_904_037_1 * l + 0.782_771_766_2 * m - 0.808_675_766_0 * s,
    ]
}

/// The inverse path: OKLCH → OKLab → LMS' → cube → linear sRGB (may leave the gamut).
fn oklch_to_linear(lightness: f64, chroma: f64, hue: f64) -> [f64; 3] {
    let (sin, cos) = hue.to_radians().sin_cos();
    let (a, b) = (chroma * cos, chroma * sin);
    let l = (lightness + 0.396_337_777_4 * a + 0.215_803_757_3 * b).powi(3);
    let m = (lightness - 0.105_561_345_8 * a - 0.063_854_172_8 * b).powi(3);
    let s = (lightness - 0.089_484_177_5 * a - 1.291_485_548_0 * b).powi(3);
    [
        4.076_741_662_1 * l - 3.307_711_591_3 * m + 0.230_969_929_2 * s,
        -1.268_438_004_6 * l + 2.609_757_401_1 * m - 0.341_319_396_5 * s,
        -0.004_196_086_3 * l - 0.703_418_614_7 * m + 1.707_614_701_0 * s,
    ]
}

fn in_gamut(rgb: [f64; 3]) -> bool {
    // A hair of slack so the matrices' own rounding does not count as leaving the gamut.
    rgb.iter().all(|v| (-1e-7..=1.0 + 1e-7).contains(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64, what: &str) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{what}: got {actual}, expected {expected}"
        );
    }

    fn oklch_of(hex: &str) -> Oklch {
        hex_to_oklch(parse_hex(hex).expect("valid hex"))
    }

    #[test]
    fn parse_hex_accepts_both_cases_and_an_optional_hash() {
        assert_eq!(parse_hex("#5554b6"), Some([0x55, 0x54, 0xb6]));
        assert_eq!(parse_hex("5554B6"), Some([0x55, 0x54, 0xb6]));
        assert_eq!(parse_hex("#FFffFF"), Some([255, 255, 255]));
    }

    #[test]
    fn parse_hex_rejects_anything_else() {
        for bad in [
            "", "#", "#12345", "#1234567", "#12345g", "+12345", "#+12345", "#12 456", "#ééé",
        ] {
            assert_eq!(parse_hex(bad), None, "{bad:?} should be rejected");
        }
    }

    #[test]
    fn format_hex_is_lowercase_with_a_hash() {
        assert_eq!(format_hex([0x55, 0x54, 0xb6]), "#5554b6");
        assert_eq!(format_hex([0, 10, 255]), "#000aff");
    }

    #[test]
    fn spec_check_value_5554b6() {
        let o = oklch_of("#5554b6");
        close(o.l, 0.4996, 0.00005, "lightness");
        close(o.c, 0.1510, 0.00005, "chroma");
        close(o.h, 279.89, 0.005, "hue");
    }

    #[test]
    fn spec_check_values_red_and_blue() {
        let red = oklch_of("#ff0000");
        close(red.l, 0.627955, 0.000_001, "red lightness");
        close(red.c, 0.257683, 0.000_001, "red chroma");
        close(red.h, 29.2339, 0.000_1, "red hue");
        let blue = oklch_of("#0000ff");
        close(blue.l, 0.452014, 0.000_001, "blue lightness");
        close(blue.c, 0.313214, 0.000_001, "blue chroma");
        close(blue.h, 264.0520, 0.000_1, "blue hue");
    }

    #[test]
    fn spec_check_value_hue_280_vs_300() {
        let a = Oklch {
            l: 0.5,
            c: 0.15,
            h: 280.0,
        };
        let b = Oklch {
            l: 0.5,
            c: 0.15,
            h: 300.0,
        };
        assert_eq!(format!("{:.2}", distance(a, b)), "5.21");
    }

    #[test]
    fn greys_have_no_hue() {
        for hex in ["#ffffff", "#000000", "#808080", "#7f7f7f", "#010101", "#fefefe"] {
            let o = oklch_of(hex);
            assert!(!hue_is_defined(o.c), "{hex} has chroma {}", o.c);
        }
        close(oklch_of("#ffffff").l, 1.0, 1e-6, "white lightness");
        close(oklch_of("#000000").l, 0.0, 1e-12, "black lightness");
    }

    #[test]
    fn near_greys_do_have_a_hue() {
        assert!(hue_is_defined(oklch_of("#808081").c));
    }

    #[test]
    fn distance_wraps_around_zero_degrees() {
        let at = |h| Oklch { l: 0.6, c: 0.12, h };
        let across_zero = distance(at(355.0), at(5.0));
        let plain = distance(at(5.0), at(15.0));
        close(across_zero, plain, 1e-9, "355↔5 vs 5↔15");
        close(distance(at(10.0), at(370.0 - 360.0)), 0.0, 1e-12, "same hue");
    }

    #[test]
    fn distance_is_symmetric_and_matches_euclidean_oklab() {
        let a = oklch_of("#5554b6");
        let b = oklch_of("#e0a030");
        close(distance(a, b), distance(b, a), 1e-12, "symmetry");
        let lab = |o: Oklch| (o.l, o.c * o.h.to_radians().cos(), o.c * o.h.to_radians().sin());
        let (la, aa, ba) = lab(a);
        let (lb, ab, bb) = lab(b);
        let euclid = 100.0 * ((la - lb).powi(2) + (aa - ab).powi(2) + (ba - bb).powi(2)).sqrt();
        close(distance(a, b), euclid, 1e-9, "closed form vs Euclidean");
    }

    #[test]
    fn a_grey_is_equally_far_whatever_its_hue() {
        let grey = |h| Oklch { l: 0.5, c: 0.0, h };
        let colour = Oklch {
            l: 0.6,
            c: 0.2,
            h: 40.0,
        };
        close(
            distance(grey(0.0), colour),
            distance(grey(200.0), colour),
            1e-12,
            "grey hue ignored",
        );
    }

    #[test]
    fn hex_round_trips_through_oklch() {
        let mut seen = 0;
        for r in (0..=255).step_by(15) {
            for g in (0..=255).step_by(17) {
                for b in (0..=255).step_by(15) {
                    let rgb = [r as u8, g as u8, b as u8];
                    assert_eq!(oklch_to_hex(hex_to_oklch(rgb)), rgb, "{}", format_hex(rgb));
                    seen += 1;
                }
            }
        }
        assert!(seen > 4000);
        for hex in [
            "#5554b6", "#ff0000", "#0000ff", "#00ff00", "#ffffff", "#000000", "#123456",
        ] {
            let rgb = parse_hex(hex).expect("valid hex");
            assert_eq!(format_hex(oklch_to_hex(hex_to_oklch(rgb))), hex);
        }
    }

    #[test]
    fn out_of_gamut_colours_are_pulled_in_keeping_lightness_and_hue() {
        let wanted = Oklch {
            l: 0.7,
            c: 0.4,
            h: 150.0,
        };
        let got = hex_to_oklch(oklch_to_hex(wanted));
        close(got.l, wanted.l, 0.01, "lightness kept");
        close(got.h, wanted.h, 2.0, "hue kept");
        assert!(got.c < wanted.c, "chroma reduced to fit sRGB");
        assert_eq!(
            oklch_to_hex(Oklch {
                l: 1.2,
                c: 0.1,
                h: 0.0
            }),
            [255, 255, 255]
        );
        assert_eq!(
            oklch_to_hex(Oklch {
                l: -0.1,
                c: 0.1,
                h: 0.0
            }),
            [0, 0, 0]
        );
    }

    #[test]
    fn hues_are_in_range() {
        for hex in ["#ff0000", "#ff00ff", "#ff0080", "#0000ff", "#00ffff"] {
            let h = oklch_of(hex).h;
            assert!((0.0..360.0).contains(&h), "{hex}: {h}");
        }
    }
}
