"""Event stage: per-frame filters, then temporal confirmation into start/update/end transitions."""
