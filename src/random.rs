//! Unpredictable tokens for output delimiters and stop-commands blocks.

/// 32 lowercase hex characters from the operating system's random source.
pub(crate) fn hex_token() -> String {
    let mut bytes = [0u8; 16];
    // The OS random source does not fail on Linux once booted; if it ever does, a time-based
    // fallback still beats a constant, and untrusted values are also refused if they contain
    // the delimiter.
    if getrandom::getrandom(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = (nanos ^ u128::from(std::process::id()).rotate_left(64)).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random fraction in `[0, 1)`, for retry jitter.
pub(crate) fn unit_fraction() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}
