//! Why a photo or signature was refused, in words a technician can act on.
//!
//! The UI branches on [`MediaError::code`] (stable strings, part of the IPC contract) and shows
//! [`MediaError::message_zh`] or the English `Display` text. Decoder detail is kept for logs only.

use heatcrew_protocol::{ErrorCode, Lang};

/// A photo or signature could not be prepared. Nothing was produced, so nothing may be stored.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Zero bytes: usually a cancelled capture or a failed copy.
    #[error("The file is empty (0 bytes). Take the photo again.")]
    EmptyFile,

    /// Not a picture at all (text, PDF, an archive…), whatever its name says.
    #[error("This file is not a photo. Choose a JPEG, PNG or WebP photo.")]
    NotAnImage,

    /// A picture in a format this app does not read (HEIC, GIF, TIFF, BMP…).
    #[error(
        "{format} pictures are not supported. Set the camera to JPEG (\"most compatible\") or choose another photo."
    )]
    UnsupportedFormat {
        /// The format recognised from the file's first bytes, e.g. "HEIC".
        format: &'static str,
    },

    /// The file ends before the picture does: an interrupted transfer or a full disk.
    #[error("The photo file is incomplete (cut off). Take or copy the photo again.")]
    Truncated,

    /// The bytes are damaged in a way the decoder cannot read past.
    #[error("The photo file is damaged and cannot be read. Take the photo again.")]
    Corrupt {
        /// What the decoder said, for logs; not meant for the technician.
        detail: String,
    },

    /// The file itself is larger than the app accepts.
    #[error(
        "The file is {} MB; at most {} MB is accepted. Choose a smaller photo.",
        mb(*bytes),
        mb(*max_bytes)
    )]
    TooLarge {
        /// Size of the input.
        bytes: u64,
        /// The configured limit.
        max_bytes: u64,
    },

    /// The header claims more pixels than may be decoded within the memory budget: a damaged file
    /// or a deliberate "bomb".
    #[error(
        "The picture claims {width}×{height} pixels, more than this app can safely open. It is probably damaged or not a camera photo."
    )]
    DimensionsTooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
    },

    /// No signature, or only a dot or a short stroke.
    #[error("The signature is empty or too small. Ask the customer to sign across the box.")]
    SignatureEmpty {
        /// How many pixels of ink were found.
        ink_pixels: u64,
    },

    /// Reading the input failed (a file that vanished, a storage error). Not the content's fault.
    #[error("The photo could not be read from storage ({detail}). Try again.")]
    Read {
        /// The I/O error.
        detail: String,
    },

    /// Encoding the output failed. Not the input's fault; should not happen.
    #[error("The photo could not be saved because of an internal error ({detail}).")]
    Encode {
        /// What the encoder said.
        detail: String,
    },

    /// A decoder panicked on this input. The panic was contained and the file refused.
    #[error("The photo could not be read (internal decoder error). The file was refused safely.")]
    DecoderPanicked,
}

impl MediaError {
    /// Stable machine code for the `{code, message}` edge; never change an existing one.
    pub fn code(&self) -> ErrorCode {
        match self {
            MediaError::EmptyFile => ErrorCode::EmptyFile,
            MediaError::NotAnImage => ErrorCode::NotAnImage,
            MediaError::UnsupportedFormat { .. } => ErrorCode::UnsupportedFormat,
            MediaError::Truncated => ErrorCode::Truncated,
            MediaError::Corrupt { .. } => ErrorCode::Corrupt,
            MediaError::TooLarge { .. } => ErrorCode::TooLarge,
            MediaError::DimensionsTooLarge { .. } => ErrorCode::DimensionsTooLarge,
            MediaError::SignatureEmpty { .. } => ErrorCode::SignatureEmpty,
            MediaError::Read { .. } => ErrorCode::ReadFailed,
            MediaError::Encode { .. } => ErrorCode::EncodeFailed,
            MediaError::DecoderPanicked => ErrorCode::DecoderPanicked,
        }
    }

    /// The English message (same as `Display`).
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The message in Chinese, for the zh-CN-first UI.
    pub fn message_zh(&self) -> String {
        match self {
            MediaError::UnsupportedFormat { format } => format!(
                "不支持 {format} 格式的图片。请把相机设置为 JPEG(“兼容性最佳”),或选择其他照片。"
            ),
            MediaError::TooLarge { bytes, max_bytes } => format!(
                "文件大小为 {} MB,最多允许 {} MB,请选择较小的照片。",
                mb(*bytes),
                mb(*max_bytes)
            ),
            MediaError::DimensionsTooLarge { width, height } => format!(
                "图片声称有 {width}×{height} 像素,超出可安全打开的范围,可能已损坏或不是相机照片。"
            ),
            MediaError::Read { detail } => format!("无法从存储中读取照片({detail}),请重试。"),
            MediaError::Encode { detail } => format!("照片保存失败(内部错误:{detail})。"),
            // The rest carry no facts: they say what their code says.
            MediaError::EmptyFile
            | MediaError::NotAnImage
            | MediaError::Truncated
            | MediaError::Corrupt { .. }
            | MediaError::SignatureEmpty { .. }
            | MediaError::DecoderPanicked => self.code().message(Lang::Zh).to_owned(),
        }
    }

    /// True when the input is at fault (the user should pick or take another file), false for
    /// internal failures worth reporting.
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            MediaError::Read { .. } | MediaError::Encode { .. } | MediaError::DecoderPanicked
        )
    }
}

/// Megabytes with one decimal, for messages.
fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}
