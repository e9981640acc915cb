"""Digital-literacy classes: scheduling, booking, the waiting list, reminders and attendance."""
