"""Delivery feedback: bounces and complaints from reports, mailboxes and provider webhooks."""
