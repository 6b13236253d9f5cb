//! heatcrew-office: being written.
