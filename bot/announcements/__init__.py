"""Announcements to an area: planned works and the like, in Kazakh and Russian, through the outbox."""
