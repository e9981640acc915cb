"""Running AuylNet for months: the one-bot-per-database lock, start-up checks, backup and restore,
and the doctor that checks a deployment before it goes live."""
