//! heatcrew-media: being written.
