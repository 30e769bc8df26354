"""Webhooks: an API client's subscriptions to domain events, signed deliveries sent by the job
queue after the commit, retried with back-off, listed with their responses."""
