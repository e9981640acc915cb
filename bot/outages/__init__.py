"""Outage reports: tickets for residents, incidents for staff, worked to closure."""
