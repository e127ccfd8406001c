"""Payment gateways: the raw notification log (and the toolkit gateway plugins build on)."""
