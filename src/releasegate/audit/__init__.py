"""The audit trail's outside witnesses: anchors of the event chain's head."""
