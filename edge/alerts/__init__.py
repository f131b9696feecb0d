"""Alert stage: event transitions become wire alerts with JPEG snapshots."""
