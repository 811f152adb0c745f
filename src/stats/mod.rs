//! Statistics for the decision report (being written).
