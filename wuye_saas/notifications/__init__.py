"""Notifications: who is told that something waits for them.

Domain events (wuye_saas/events) are turned into inbox items for the memberships they wait for
(`handlers`), inside the emitting transaction; each person's preferences add an SMS or WeChat
message to the outbox (`outbox`) for some kinds. A periodic job adds deadline reminders
(`reminders`). The outbox is sent by the job queue after the commit (`kick`, `jobs`)."""
