"""What every person meets whatever their role: first contact, language, the main menu, help, their data."""
