"""Delivery: the Messenger protocol, channels, the outbox pipeline and delivery feedback."""
