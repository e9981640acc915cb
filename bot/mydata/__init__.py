"""My data: everything AuylNet keeps about a person, as a file they can keep."""
